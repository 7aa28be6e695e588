import { describe, expect, it } from 'vitest';
import { allGrants } from '../../../src/auth/grants.js';
import { grantsFromScopes } from '../../../src/protocol/scopes.js';
import type { Principal } from '../../../src/auth/principal.js';
import { maxTargetsPage, maxTargetsPageBytes, type TargetInfo } from '../../../src/protocol/controlMessages.js';
import { pageRequestFromHeaders, targetPage, visibleTargets } from '../../../src/listeners/targetListing.js';

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

describe('targetPage (revision 1.9)', () => {
  const fleet = Array.from({ length: 12 }, (_, i) => target(`t-${String(i).padStart(2, '0')}`));

  it('sorts by name, starts after the cursor, stops at the limit and says what comes next', () => {
    const shuffled = [...fleet].reverse();
    const first = targetPage(shuffled, { limit: 5 });
    expect(first.targets.map((t) => t.name)).toEqual(['t-00', 't-01', 't-02', 't-03', 't-04']);
    expect(first.next).toBe('t-04');
    const last = targetPage(shuffled, { after: 't-09', limit: 5 });
    expect(last.targets.map((t) => t.name)).toEqual(['t-10', 't-11']);
    expect(last).not.toHaveProperty('next');
    expect(targetPage(shuffled, { after: 't-11' })).toEqual({ ok: true, targets: [] });
  });

  it('uses the maximum page size when no limit is asked and never exceeds it', () => {
    const many = Array.from({ length: maxTargetsPage + 3 }, (_, i) => target(`n-${String(i).padStart(4, '0')}`));
    expect(targetPage(many).targets).toHaveLength(maxTargetsPage);
    expect(targetPage(many, { limit: maxTargetsPage + 100 }).targets).toHaveLength(maxTargetsPage);
    expect(targetPage(many, { after: targetPage(many).next }).targets).toHaveLength(3);
  });

  it('ends a page before it passes the byte bound, always with at least one target', () => {
    const big = fleet.map((t) => ({ ...t, labels: { blob: 'x'.repeat(1000) } }));
    const page = targetPage(big, {}, 3_500);
    expect(page.targets.length).toBeGreaterThanOrEqual(1);
    expect(page.targets.length).toBeLessThan(big.length);
    expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThanOrEqual(3_500);
    expect(targetPage(big, {}, 10).targets).toHaveLength(1);
  });

  it('keeps the first page of 1000 targets with hostile maximal labels within the byte bound', () => {
    // Control characters take 6 bytes each in JSON: the worst case of any label text.
    const labels = Object.fromEntries(Array.from({ length: 32 }, (_, k) => [String(k).padEnd(64, '\u0001'), '\u0001'.repeat(256)]));
    const fleet1000 = Array.from({ length: 1000 }, (_, i) => ({ ...target(`w-${String(i).padStart(4, '0')}`), labels }));
    const page = targetPage(fleet1000);
    expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThanOrEqual(maxTargetsPageBytes);
    expect(page.next).toBe(page.targets.at(-1)!.name);
  });
});

describe('pageRequestFromHeaders', () => {
  it('reads X-Dbgrelay-After and X-Dbgrelay-Limit and refuses bad values with BAD_REQUEST', () => {
    expect(pageRequestFromHeaders({})).toEqual({ after: undefined });
    expect(pageRequestFromHeaders({ 'x-dbgrelay-after': 'web-1', 'x-dbgrelay-limit': '20' })).toEqual({ after: 'web-1', limit: 20 });
    for (const headers of [{ 'x-dbgrelay-limit': '0' }, { 'x-dbgrelay-limit': '501' }, { 'x-dbgrelay-limit': '1e2' }, { 'x-dbgrelay-after': '' }]) {
      expect(() => pageRequestFromHeaders(headers)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    }
  });
});
