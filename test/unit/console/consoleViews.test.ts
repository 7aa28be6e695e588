import { describe, expect, it } from 'vitest';
import { consoleSessions, consoleTargets } from '../../../src/console/consoleViews.js';
import type { SessionRecord } from '../../../src/session/sessionLedger.js';
import { principal } from '../../support/harness/guardedHarness.js';

const entry = {} as SessionRecord['entry'];
const records: SessionRecord[] = [
  { id: 'a1', principal: 'jwt:bob', target: 'web-1', entry, state: 'running', status: { policy: 'no-eval', openedAt: 10, pausedSince: 20 } },
  { id: 'b2', principal: 'jwt:carol', target: 'db-1', entry, state: 'running', status: { policy: 'full', openedAt: 30 } },
  { id: 'c3', principal: 'jwt:bob', target: 'web/123', entry, state: 'opening' },
];

describe('the console views', () => {
  it('list the sessions of the targets the caller may attach to, with policy, start and pause', () => {
    expect(consoleSessions(principal('jwt:alice', ['attach:web*']), records)).toEqual([
      { id: 'a1', principal: 'jwt:bob', target: 'web-1', state: 'running', policy: 'no-eval', openedAt: 10, pausedSince: 20 },
      { id: 'c3', principal: 'jwt:bob', target: 'web/123', state: 'opening' },
    ]);
    expect(consoleSessions(principal('admin', ['*']), records).map((s) => s.id)).toEqual(['a1', 'b2', 'c3']);
  });

  it('give each group member its group', () => {
    const target = { labels: {}, host: 'h', transport: 'wss', connectedAt: '2026-12-01T00:00:00Z', sessions: 0 } as const;
    expect(
      consoleTargets([
        { ...target, name: 'web/123' },
        { ...target, name: 'db-1' },
      ]).map((t) => t.group),
    ).toEqual(['web', undefined]);
  });
});
