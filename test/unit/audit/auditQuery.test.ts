import { describe, expect, it } from 'vitest';
import { matchesAuditQuery, parseAuditTime } from '../../../src/audit/auditQuery.js';
import { isRelayError } from '../../../src/common/relayError.js';

const now = Date.parse('2026-11-21T12:00:00.000Z');
const record = { time: '2026-11-21T10:30:00.000Z', event: 'dap.request', principal: 'jwt:alice', target: 'web-1', command: 'evaluate' };

describe('parseAuditTime', () => {
  it.each([
    ['15m', now - 15 * 60_000],
    ['2h', now - 2 * 3_600_000],
    ['1d', now - 86_400_000],
    ['90s', now - 90_000],
    ['2026-11-21T08:00:00Z', Date.parse('2026-11-21T08:00:00Z')],
    ['2026-11-21T08:00:00.250+01:00', Date.parse('2026-11-21T07:00:00.250Z')],
    ['2026-11-21 08:00Z', Date.parse('2026-11-21T08:00:00Z')],
    ['2026-11-21', Date.parse('2026-11-21')],
  ])('reads %s', (text, expected) => {
    expect(parseAuditTime(text, '--since', now)).toBe(expected);
  });

  it.each(['yesterday', '15', '15 minutes', '-2h', '0m', '2026-13-45T99:00:00Z', '2026/11/21', ''])('refuses %j with BAD_REQUEST naming the flag', (text) => {
    let error: unknown;
    try {
      parseAuditTime(text, '--until', now);
    } catch (e) {
      error = e;
    }
    expect(isRelayError(error, 'BAD_REQUEST')).toBe(true);
    expect((error as Error).message).toMatch(/^--until: /);
  });
});

describe('matchesAuditQuery', () => {
  it('matches everything with an empty query', () => {
    expect(matchesAuditQuery(record, {})).toBe(true);
    expect(matchesAuditQuery({ event: 'session.opened' }, {})).toBe(true);
  });

  it('filters by target and principal patterns', () => {
    expect(matchesAuditQuery(record, { target: 'web-*' })).toBe(true);
    expect(matchesAuditQuery(record, { target: 'web-?' })).toBe(true);
    expect(matchesAuditQuery(record, { target: 'web' })).toBe(false);
    expect(matchesAuditQuery(record, { target: 'db-*' })).toBe(false);
    expect(matchesAuditQuery(record, { principal: 'jwt:alice' })).toBe(true);
    expect(matchesAuditQuery(record, { principal: 'jwt:*' })).toBe(true);
    expect(matchesAuditQuery(record, { principal: 'jwt:bob' })).toBe(false);
    expect(matchesAuditQuery(record, { principal: 'jwt:alice', target: 'db-1' })).toBe(false);
  });

  it('does not match a criterion on a field the record lacks', () => {
    expect(matchesAuditQuery({ time: record.time, event: 'session.opened' }, { target: '*' })).toBe(false);
    expect(matchesAuditQuery({ event: 'session.opened', target: 'web-1' }, { sinceMs: 0 })).toBe(false);
    expect(matchesAuditQuery({ ...record, target: 42 }, { target: '*' })).toBe(false);
  });

  it('filters by time, bounds included', () => {
    const at = Date.parse(record.time);
    expect(matchesAuditQuery(record, { sinceMs: at })).toBe(true);
    expect(matchesAuditQuery(record, { sinceMs: at + 1 })).toBe(false);
    expect(matchesAuditQuery(record, { untilMs: at })).toBe(true);
    expect(matchesAuditQuery(record, { untilMs: at - 1 })).toBe(false);
    expect(matchesAuditQuery(record, { sinceMs: at - 1000, untilMs: at + 1000 })).toBe(true);
  });
});
