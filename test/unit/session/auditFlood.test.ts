import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { auditLogChain } from '../../../src/audit/auditReader.js';
import { loadConfig } from '../../../src/config/loadConfig.js';
import { RelayMetrics } from '../../../src/metrics/relayMetrics.js';
import { SessionGuards } from '../../../src/session/sessionGuards.js';
import { trackedSessions } from '../../support/harness/guardedHarness.js';

/**
 * Issue 16, "The audit log cannot be flushed": a `logpoints-only` client sending
 * `setBreakpoints` with 100 logpoints of 4 KB each, through a session whose guards
 * write a real audit log (SessionGuards.fromConfig, as the relay builds them).
 */

const { open, closeAll } = trackedSessions();
const guardsToClose: SessionGuards[] = [];
afterEach(async () => {
  await closeAll();
  for (const guards of guardsToClose.splice(0)) guards.close();
});

const hour = 3_600_000;

/** Guards over an audit log in a fresh directory, with `audit` keys over the defaults. */
function fileGuards(audit: Record<string, unknown>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'audit-flood-'));
  const config = loadConfig({ env: {}, overrides: { dataDir, policies: { default: 'logpoints-only' }, audit: { sync: false, ...audit } } });
  const metrics = new RelayMetrics();
  const guards = SessionGuards.fromConfig(config, pino({ level: 'silent' }), metrics.guardrails);
  guardsToClose.push(guards);
  const file = join(dataDir, 'audit.log');
  const records = (): Array<Record<string, unknown>> =>
    auditLogChain(file).flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    );
  const totalBytes = (): number => readdirSync(dataDir).reduce((sum, name) => sum + statSync(join(dataDir, name)).size, 0);
  return { guards, metrics, file, records, totalBytes };
}

/** `setBreakpoints` with `count` logpoints of `size` bytes (default 10 of 1 KB, a ~10 KB record); `variant` makes the messages differ. */
const logpoints = (variant = 0, count = 10, size = 1000): unknown => ({
  source: { path: '/srv/app.py' },
  breakpoints: Array.from({ length: count }, (_, i) => ({ line: i + 1, logMessage: `${variant}:${'x'.repeat(size)}` })),
});

describe('an audit-log flood from one session', () => {
  it('cannot rotate away earlier records: each record is bounded, identical ones are aggregated, and young files are kept', async () => {
    // A small configuration: 2 files of 64 KiB.
    const { guards, metrics, records, totalBytes } = fileGuards({ maxFileBytes: 64 * 1024, maxFiles: 2, maxBytesPerSessionPerMinute: 64 * 1024, minRetentionMs: hour });
    const h = await open({ guards });
    for (let i = 0; i < 40; i++) expect((await h.request('setBreakpoints', logpoints())).success).toBe(true);
    h.pipe.close();
    await h.closed;
    const all = records();
    expect(all[0]).toMatchObject({ event: 'session.opened', policy: 'logpoints-only' }); // the first record survived
    const written = all.filter((r) => r['command'] === 'setBreakpoints' && r['repeated'] === undefined);
    const repeated = all.filter((r) => r['repeated'] !== undefined);
    expect(written.length).toBeGreaterThanOrEqual(1);
    expect(written.length).toBeLessThanOrEqual(7); // 64 KiB a minute, ~10 KB a record
    expect(written[0]).toMatchObject({ source: '/srv/app.py', breakpoints: expect.arrayContaining([expect.objectContaining({ line: 10 })]) });
    expect(repeated).toEqual([expect.objectContaining({ command: 'setBreakpoints', repeated: 40 - written.length })]);
    expect(all.at(-1)).toMatchObject({ event: 'session.closed' });
    expect(totalBytes()).toBeLessThan(128 * 1024);
    expect(await metrics.valueOf('dbgrelay_audit_aggregated_total')).toBe(40 - written.length);
    expect(h.adapter.requests('setBreakpoints')).toHaveLength(40); // every one ran, and is accounted for
  });

  it('refuses a request whose code its record could not show whole (100 logpoints of 4 KB, or one hidden after 30 harmless ones)', async () => {
    const { guards, metrics, records } = fileGuards({});
    const h = await open({ guards });
    const big = await h.request('setBreakpoints', logpoints(0, 100, 4096));
    expect(big.success).toBe(false);
    expect(big.message).toContain('setBreakpoints refused: its audit record could not show all the code it carries (AUDIT_RECORD_TOO_LARGE)');
    const hidden = Array.from({ length: 30 }, (_, i) => ({ line: i + 1, logMessage: `${i}:${'h'.repeat(600)}` }));
    hidden.push({ line: 99, logMessage: '{__import__("os").system("id")}' });
    expect((await h.request('setBreakpoints', { source: { path: '/srv/app.py' }, breakpoints: hidden })).success).toBe(false);
    expect(h.adapter.requests('setBreakpoints')).toHaveLength(0);
    expect(
      records()
        .filter((r) => r['event'] === 'dap.refused')
        .map((r) => r['command']),
    ).toEqual(['setBreakpoints', 'setBreakpoints']);
    expect(await metrics.valueOf('dbgrelay_audit_refusals_total', { reason: 'size' })).toBe(2);
    const fits = await h.request('setBreakpoints', { source: { path: '/srv/app.py' }, breakpoints: hidden.slice(0, 20) });
    expect(fits.success).toBe(true);
  });

  it('refuses requests it cannot record one by one with AUDIT_THROTTLED, and never forwards them', async () => {
    const { guards, metrics, records } = fileGuards({ maxBytesPerSessionPerMinute: 64 * 1024 });
    const h = await open({ guards });
    const responses = [];
    for (let i = 0; i < 14; i++) responses.push(await h.request('setBreakpoints', logpoints(i)));
    const refused = responses.filter((r) => !r.success);
    expect(refused.length).toBeGreaterThanOrEqual(7);
    expect(refused[0]!.message).toContain('setBreakpoints refused: this session wrote more audit records than audit.maxBytesPerSessionPerMinute allows (AUDIT_THROTTLED)');
    const forwarded = h.adapter.requests('setBreakpoints');
    expect(forwarded).toHaveLength(14 - refused.length);
    // Resuming and leaving are never refused: a paused debuggee must not stay paused.
    for (const [command, args] of [
      ['continue', { threadId: 1 }],
      ['continue', { threadId: 2 }],
      ['disconnect', { terminateDebuggee: false }],
    ] as const) {
      expect((await h.request(command, args)).success).toBe(true);
    }
    expect(h.adapter.requests('continue')).toHaveLength(2);
    expect(h.adapter.requests('disconnect')).toHaveLength(1);
    expect(records().filter((r) => r['event'] === 'dap.request' && r['command'] === 'setBreakpoints')).toHaveLength(forwarded.length);
    expect(await metrics.valueOf('dbgrelay_audit_refusals_total', { reason: 'rate' })).toBe(refused.length);
    h.pipe.close();
    await h.closed;
    expect(records().filter((r) => r['event'] === 'audit.throttled')).toEqual([expect.objectContaining({ refusedRequests: refused.length, maxBytesPerMinute: 64 * 1024 })]);
    expect(records().filter((r) => r['command'] === 'disconnect')).toHaveLength(1);
  });

  it('refuses audited requests and new sessions with AUDIT_FULL once every file holds young records, never resumes, and still records the session end', async () => {
    const { guards, metrics, file, records } = fileGuards({ maxFileBytes: 8 * 1024, maxFiles: 1, minRetentionMs: hour, maxRecordBytes: 2048, reserveBytes: 4096 });
    const h = await open({ guards });
    let refusal: string | undefined;
    for (let i = 0; i < 40 && refusal === undefined; i++) {
      const response = await h.request('setBreakpoints', logpoints(i, 1));
      if (!response.success) refusal = response.message;
    }
    expect(refusal).toContain("setBreakpoints refused: the relay's audit log is full (AUDIT_FULL)");
    expect(h.adapter.requests('setBreakpoints').length).toBe(records().filter((r) => r['command'] === 'setBreakpoints').length);
    expect(await metrics.valueOf('dbgrelay_audit_full')).toBe(1);
    expect(await metrics.valueOf('dbgrelay_audit_refusals_total', { reason: 'full' })).toBe(1);
    // A paused debuggee is never left paused: the resume is forwarded without its record, and counted.
    for (let i = 0; i < 40; i++) expect((await h.request('continue', { threadId: i })).success).toBe(true);
    expect(h.adapter.requests('continue')).toHaveLength(40);
    const unrecorded = await metrics.valueOf('dbgrelay_audit_unrecorded_total', { reason: 'full' });
    expect(unrecorded).toBeGreaterThanOrEqual(1);
    expect(records().filter((r) => r['command'] === 'continue')).toHaveLength(40 - unrecorded);
    // Opening and closing sessions cannot use the reserve up: a new session is refused.
    await expect(open({ guards, target: 'web-2' })).rejects.toMatchObject({ code: 'AUDIT_FULL' });
    expect(records().filter((r) => r['event'] === 'session.opened')).toHaveLength(1);
    // But a subprocess's connection (a secondary session of the holder) is not: its child waits for its debugger.
    const child = await open({ guards });
    expect(
      records()
        .filter((r) => r['event'] === 'session.opened')
        .map((r) => r['role']),
    ).toEqual(['primary', 'secondary']);
    child.pipe.close();
    await child.closed;
    expect((await h.request('disconnect', { terminateDebuggee: false })).success).toBe(true); // leaving is never refused
    h.pipe.close();
    await h.closed;
    const all = records();
    expect(all[0]).toMatchObject({ event: 'session.opened' });
    expect(all.slice(-2).map((r) => r['command'] ?? r['event'])).toEqual(['disconnect', 'session.closed']);
    expect(statSync(file).size).toBeLessThanOrEqual(8 * 1024 + 4096);
  });
});

describe('a refused evaluate', () => {
  it('is recorded with its expression (bounded)', async () => {
    const h = await open({ policies: { default: 'logpoints-only', targets: {}, principals: {} }, maxAuditValueChars: 512 });
    const response = await h.request('evaluate', { expression: '__import__("os").environ["DB_PASSWORD"]', frameId: 1, context: 'repl' });
    expect(response.success).toBe(false);
    await h.request('evaluate', { expression: `exfiltrate(${'a'.repeat(4000)})`, context: 'repl' });
    const [first, second] = h.audit.named('dap.refused');
    expect(first).toMatchObject({
      command: 'evaluate',
      policy: 'logpoints-only',
      expression: '__import__("os").environ["DB_PASSWORD"]',
      context: 'repl',
      frameId: 1,
      reason: expect.stringContaining('evaluate runs code'),
    });
    expect(second!['expression']).toBe(`exfiltrate(${'a'.repeat(501)}…[3500 more]`);
  });
});
