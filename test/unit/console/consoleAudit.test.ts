import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditFilterFromQuery, auditPage } from '../../../src/console/consoleAudit.js';
import { ConsoleAuditReads } from '../../../src/console/consoleAuditReads.js';
import { seesAuditRecord } from '../../../src/console/consoleViews.js';
import { refusal } from '../../support/keys/jwtFixtures.js';
import { principal } from '../../support/harness/guardedHarness.js';

function auditLog(records: Array<Record<string, unknown>>, rotated: Array<Record<string, unknown>> = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-console-audit-'));
  const file = join(dir, 'audit.log');
  const lines = (list: Array<Record<string, unknown>>): string => list.map((r) => `${JSON.stringify(r)}\n`).join('');
  writeFileSync(file, `${lines(records)}not json\n`);
  if (rotated.length > 0) writeFileSync(`${file}.1`, lines(rotated));
  return file;
}

const record = (n: number, target: string, event = 'dap.request'): Record<string, unknown> => ({
  time: new Date(Date.UTC(2026, 11, 1, 8, 0, n)).toISOString(),
  event,
  principal: 'jwt:alice',
  target,
  n,
});

describe('the console audit view', () => {
  it('shows the newest matching records first, a page at a time, rotated files included', async () => {
    const file = auditLog(
      Array.from({ length: 9 }, (_, i) => record(i + 3, i % 2 === 0 ? 'web-1' : 'db-1')),
      [record(1, 'web-1'), record(2, 'web-1', 'session.opened')],
    );
    const all = await auditPage(file, {}, 100, () => true);
    expect(all.records.map((r) => r['n'])).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(all.more).toBe(false);
    const web = await auditPage(file, { target: 'web-*' }, 3, () => true);
    expect(web.records.map((r) => r['n'])).toEqual([11, 9, 7]);
    expect(web.more).toBe(true);
    expect((await auditPage(file, { event: 'session.opened' }, 3, () => true)).records.map((r) => r['n'])).toEqual([2]);
  });

  it('shows an engineer only the records of targets it may attach to', async () => {
    const file = auditLog([record(1, 'web-1'), record(2, 'db-1'), { time: new Date().toISOString(), event: 'console.login', principal: 'x' }]);
    const engineer = principal('jwt:alice', ['attach:web-*']);
    expect((await auditPage(file, {}, 10, (r) => seesAuditRecord(engineer, r))).records.map((r) => r['n'])).toEqual([1]);
    expect((await auditPage(file, {}, 10, (r) => seesAuditRecord(principal('admin', ['*']), r))).records).toHaveLength(3);
  });

  it('is empty before the relay wrote any audit record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-console-audit-'));
    expect(await auditPage(join(dir, 'audit.log'), {}, 10, () => true)).toEqual({ records: [], more: false });
  });

  it('reads its filters from the query string, times as dbgrelay audit takes them', async () => {
    const now = Date.UTC(2026, 11, 1, 12);
    expect(auditFilterFromQuery(new URLSearchParams('target=web-*&principal=&event=session.opened&since=2h&until=2026-12-01T11:00:00Z'), now)).toEqual({
      target: 'web-*',
      event: 'session.opened',
      sinceMs: now - 7_200_000,
      untilMs: Date.UTC(2026, 11, 1, 11),
    });
    await refusal(
      Promise.resolve().then(() => auditFilterFromQuery(new URLSearchParams('since=yesterday'))),
      'BAD_REQUEST',
    );
  });
});

describe('the console audit reads', () => {
  const many = (): string => auditLog(Array.from({ length: 3_000 }, (_, i) => record(i % 60, i % 2 === 0 ? 'web-1' : 'db-1')));

  it('stop once the page is full and one more record matched, reading only the end of the log', async () => {
    const stats = { bytesRead: 0, malformed: 0 };
    const page = await auditPage(many(), { target: 'web-*' }, 10, () => true, { stats });
    expect(page).toMatchObject({ more: true });
    expect(page.records).toHaveLength(10);
    expect(page.bounded).toBeUndefined();
    expect(stats.bytesRead).toBeLessThanOrEqual(65_536);
  });

  it('read at most console.auditScanMaxBytes per page and say that older records may match', async () => {
    const stats = { bytesRead: 0, malformed: 0 };
    const page = await auditPage(many(), { target: 'nothing-matches' }, 10, () => true, { maxScanBytes: 65_536, stats });
    expect(page).toEqual({ records: [], more: true, bounded: true });
    expect(stats.bytesRead).toBe(65_536);
  });

  it('run one at a time: a page asked for while another is read is refused, not queued', async () => {
    const reads = new ConsoleAuditReads({ file: many(), pageSize: 10, maxScanBytes: 1 << 30 });
    const [first, second] = await Promise.all([reads.page({ target: 'nothing-matches' }, () => true), reads.page({}, () => true)]);
    expect(first).toEqual({ records: [], more: false });
    expect(second).toBeUndefined();
    expect((await reads.page({}, () => true))?.records).toHaveLength(10);
  });
});

describe('the console audit read with since', () => {
  it('stops at the first record written well before since, without reading the older part of the log', async () => {
    const hour = 3_600_000;
    const start = Date.UTC(2026, 11, 1);
    const old = Array.from({ length: 3_000 }, (_, i) => ({ time: new Date(start + i).toISOString(), event: 'dap.request', target: 'web-1', n: i }));
    const recent = [0, 1, 2].map((i) => ({ time: new Date(start + 10 * hour + i).toISOString(), event: 'dap.request', target: 'web-1', n: 10_000 + i }));
    const file = auditLog([...old, ...recent]);
    const stats = { bytesRead: 0, malformed: 0 };
    const page = await auditPage(file, { sinceMs: start + 9 * hour }, 10, () => true, { stats, maxScanBytes: 1 << 30 });
    expect(page).toEqual({ records: expect.any(Array), more: false });
    expect(page.records.map((r) => r['n'])).toEqual([10_002, 10_001, 10_000]);
    expect(stats.bytesRead).toBeLessThanOrEqual(65_536);
  });
});
