import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuditEvent } from '../../../src/audit/auditEvent.js';
import { SessionAuditBudget } from '../../../src/audit/sessionAuditBudget.js';
import { AuditMetrics } from '../../../src/metrics/auditMetrics.js';
import { MemoryAuditSink } from '../../support/harness/guardedHarness.js';

const fields = { session: 's1', principal: 'jwt:mallory', target: 'web-1' };
const evaluate = (expression: string): AuditEvent => ({ event: 'dap.request', command: 'evaluate', expression });

/** A budget of `bytes` per minute over a memory sink, on a clock the test moves. */
function budget(bytes: number, maxRecordBytes = 1024) {
  let now = 1_000_000;
  const sink = new MemoryAuditSink();
  const metrics = new AuditMetrics(new Registry());
  const errors: unknown[] = [];
  const b = new SessionAuditBudget(sink, { fields, bytesPerWindow: bytes, maxRecordBytes, windowMs: 60_000, metrics, onError: (e) => errors.push(e), now: () => now });
  return { b, sink, metrics, errors, advance: (ms: number) => (now += ms) };
}

const value = async (counter: { get(): Promise<{ values: Array<{ value: number }> }> }): Promise<number> => (await counter.get()).values[0]?.value ?? 0;

afterEach(() => {
  vi.useRealTimers();
});

describe('SessionAuditBudget', () => {
  it('adds the session fields and writes records one by one while the budget lasts', () => {
    const { b, sink } = budget(64 * 1024);
    for (let i = 0; i < 20; i++) b.record(evaluate(`x${i}`));
    expect(sink.records).toHaveLength(20);
    expect(sink.records[0]).toEqual({ event: 'dap.request', ...fields, command: 'evaluate', expression: 'x0' });
  });

  it('cuts a record to maxRecordBytes and counts it', async () => {
    const { b, sink, metrics } = budget(64 * 1024, 1024);
    b.record({ event: 'dap.request', command: 'setBreakpoints', source: `/srv/${'y'.repeat(5000)}.py`, breakpoints: [{ line: 3 }] });
    expect(Buffer.byteLength(JSON.stringify(sink.records[0]))).toBeLessThanOrEqual(1024);
    expect(sink.records[0]).toMatchObject({ ...fields, command: 'setBreakpoints', truncated: { bytes: expect.any(Number) } });
    expect(await value(metrics.truncated)).toBe(1);
  });

  it('refuses a request whose record would have to cut its code (AUDIT_RECORD_TOO_LARGE), but still cuts a refusal record', () => {
    const { b, sink } = budget(64 * 1024, 1024);
    expect(() => b.record(evaluate('y'.repeat(5000)))).toThrow(
      expect.objectContaining({ code: 'AUDIT_RECORD_TOO_LARGE', message: expect.stringContaining('audit.maxRecordBytes (1024 bytes)') }),
    );
    const logpoints = Array.from({ length: 30 }, (_, i) => ({ line: i + 1, logMessage: `harmless ${i}` }));
    logpoints.push({ line: 99, logMessage: '{__import__("os").system("id")}' });
    expect(() => b.record({ event: 'dap.request', command: 'setBreakpoints', source: '/srv/app.py', breakpoints: logpoints })).toThrow(
      expect.objectContaining({ code: 'AUDIT_RECORD_TOO_LARGE' }),
    );
    expect(sink.records).toHaveLength(0);
    b.record({ event: 'dap.refused', command: 'evaluate', reason: 'r', expression: 'y'.repeat(5000) });
    expect(sink.records[0]).toMatchObject({ event: 'dap.refused', truncated: { bytes: expect.any(Number) } });
  });

  it('past the budget, never refuses a request that resumes the program: aggregates it or counts it unrecorded', async () => {
    const { b, sink, metrics } = budget(16 * 1024, 4096);
    let refusedAt = -1;
    for (let i = 0; i < 40 && refusedAt < 0; i++) {
      try {
        b.record(evaluate(`${i}:${'s'.repeat(900)}`));
      } catch (error) {
        expect(error).toMatchObject({ code: 'AUDIT_THROTTLED' });
        refusedAt = i;
      }
    }
    expect(refusedAt).toBeGreaterThan(10);
    for (const command of ['continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'goto', 'restartFrame', 'terminate']) {
      expect(() => b.record({ event: 'dap.request', command, threadId: 1 })).not.toThrow();
    }
    b.close();
    expect(sink.named('audit.throttled')).toEqual([expect.objectContaining({ refusedRequests: 1, unrecordedResumes: 9 })]);
    expect((await metrics.unrecorded.get()).values.find((v) => v.labels['reason'] === 'rate')?.value).toBe(9);
  });

  it('past the budget, collapses identical records into one line with repeated: N and refuses new ones', async () => {
    const { b, sink, metrics } = budget(16 * 1024, 4096);
    const same = evaluate('s'.repeat(900)); // ~1 KB a record: 16 fit
    for (let i = 0; i < 100; i++) b.record(same);
    const written = sink.records.length;
    expect(written).toBeLessThanOrEqual(17);
    expect(() => b.record(evaluate('something new'))).toThrow(
      expect.objectContaining({ code: 'AUDIT_THROTTLED', message: expect.stringContaining('audit.maxBytesPerSessionPerMinute') }),
    );
    b.record({ event: 'dap.refused', command: 'evaluate', reason: 'refused by policy' }); // a refusal is never refused: counted
    b.record({ event: 'dap.request', command: 'disconnect', terminateDebuggee: false }); // leaving is never held back
    b.record({ event: 'session.closed', closedBy: 'client' }); // nor the session's own records
    expect(sink.records.slice(written).map((r) => r['command'] ?? r.event)).toEqual(['disconnect', 'session.closed']);
    b.close();
    const repeated = sink.records.filter((r) => r['repeated'] !== undefined);
    expect(repeated).toEqual([{ ...sink.records[0], repeated: 100 - written, since: expect.stringMatching(/^\d{4}-/) }]);
    expect(sink.named('audit.throttled')).toEqual([
      { event: 'audit.throttled', ...fields, refusedRequests: 1, unrecordedRefusals: 1, unrecordedResumes: 0, since: expect.any(String), maxBytesPerMinute: 16 * 1024 },
    ]);
    expect(await value(metrics.aggregated)).toBe(100 - written);
    expect(await value(metrics.dropped)).toBe(1);
  });

  it('writes the aggregated count at the end of the window, and refills over time', () => {
    vi.useFakeTimers();
    const { b, sink, advance } = budget(16 * 1024, 4096);
    const same = evaluate('s'.repeat(900));
    for (let i = 0; i < 30; i++) b.record(same);
    expect(sink.records.some((r) => r['repeated'] !== undefined)).toBe(false);
    vi.advanceTimersByTime(60_000);
    expect(sink.records.filter((r) => r['repeated'] !== undefined)).toHaveLength(1);
    advance(60_000); // a full window later the budget is back
    expect(() => b.record(evaluate('new after a minute'))).not.toThrow();
    expect(sink.records.at(-1)).toMatchObject({ expression: 'new after a minute' });
  });
});
