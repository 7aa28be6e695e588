import { describe, expect, it } from 'vitest';
import { allGrants, grantsFromScopes } from '../../../src/auth/grants.js';
import type { Principal } from '../../../src/auth/principal.js';
import type { TargetInfo } from '../../../src/protocol/controlMessages.js';
import { visibleTargets } from '../../../src/relay/targetListing.js';

const target = (name: string): TargetInfo => ({
  name,
  labels: {},
  host: 'h',
  pid: 1,
  python: '3.12.1',
  debugpy: '1.8.22',
  agent: '0.1.0',
  transport: 'wss',
  connectedAt: '2026-01-01T00:00:00.000Z',
  sessions: 0,
});
const targets = ['api-1', 'web-1', 'web-2'].map(target);
const principal = (scopes: string[]): Principal => ({ id: 'jwt:x', grants: grantsFromScopes(scopes), method: 'jwt' });

describe('visibleTargets', () => {
  it('shows admins everything and clients only what they may attach to', () => {
    expect(visibleTargets(principal(['admin']), targets).map((t) => t.name)).toEqual(['api-1', 'web-1', 'web-2']);
    expect(visibleTargets({ id: 'relay-secret', grants: allGrants, method: 'secret' }, targets)).toHaveLength(3);
    expect(visibleTargets(principal(['attach:web-*']), targets).map((t) => t.name)).toEqual(['web-1', 'web-2']);
    expect(visibleTargets(principal(['attach:db-*']), targets)).toEqual([]);
  });

  it('refuses principals that are neither admin nor client', () => {
    expect(() => visibleTargets(principal(['register:web-*']), targets)).toThrow(expect.objectContaining({ code: 'AUTH_FAILED' }));
    expect(() => visibleTargets(principal([]), targets)).toThrow(expect.objectContaining({ code: 'AUTH_FAILED' }));
  });
});
