import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type NewestFirstStats, readAuditRecordsNewestFirst } from '../../../src/audit/auditNewestFirst.js';
import { readAuditRecords } from '../../../src/audit/auditReader.js';

async function all<T>(records: AsyncIterable<T>): Promise<T[]> {
  const list: T[] = [];
  for await (const record of records) list.push(record);
  return list;
}

function logFiles(): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-audit-newest-'));
  const line = (n: number): string => `${JSON.stringify({ n, target: `wéb-${n}`, expression: '😀'.repeat(n % 7) })}\n`;
  writeFileSync(join(dir, 'audit.log.1'), Array.from({ length: 40 }, (_, i) => line(i)).join(''));
  writeFileSync(join(dir, 'audit.log'), `${Array.from({ length: 40 }, (_, i) => line(40 + i)).join('')}\nnot json\n{"n":80}`);
  return [join(dir, 'audit.log.1'), join(dir, 'audit.log')];
}

describe('readAuditRecordsNewestFirst', () => {
  it('reads what the forward reader reads, in reverse, whatever the chunk size (lines and characters cut across chunks)', async () => {
    const files = logFiles();
    const forward = await all(readAuditRecords(files));
    for (const chunkBytes of [3, 7, 64, 65_536]) {
      const stats = { bytesRead: 0, malformed: 0 };
      expect(await all(readAuditRecordsNewestFirst(files, stats, Number.POSITIVE_INFINITY, chunkBytes))).toEqual(forward.reverse());
      forward.reverse();
      expect(stats.malformed).toBe(1);
    }
  });

  it('reads only the end of the log when its reader stops early, and no chunk past its byte bound', async () => {
    const files = logFiles();
    const stats = { bytesRead: 0, malformed: 0 };
    for await (const record of readAuditRecordsNewestFirst(files, stats, Number.POSITIVE_INFINITY, 64)) {
      if (record['n'] === 78) break;
    }
    expect(stats.bytesRead).toBeLessThanOrEqual(256);
    const bounded: NewestFirstStats = { bytesRead: 0, malformed: 0 };
    const records = await all(readAuditRecordsNewestFirst(files, bounded, 200, 64));
    expect(bounded.bytesRead).toBe(256);
    expect(bounded.stopped).toBe(true);
    const newest = records.map((r) => r['n']);
    expect(newest.length).toBeGreaterThan(2);
    expect(newest).toEqual([80, 79, 78, 77, 76, 75, 74, 73].slice(0, newest.length));
  });
});
