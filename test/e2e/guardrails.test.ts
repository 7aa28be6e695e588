import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DapRequestError, DapTestClient } from '../support/dap/dapTestClient.js';
import { markerLine, startDebuggee, webAppPath, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { attachSession, evaluate, startAttach, waitForStop, waitForTargets, type ClientAccess } from '../support/relay/relayClient.js';

/**
 * Production guardrails with the real relay, agent and debugpy (issue 5): the pause
 * watchdog, one debugger per target, policies per target, and the relay detaching
 * every attached debugger when it shuts down.
 */
let relay: E2eRelay;
let relayStopped = false;
let admin: ClientAccess;
const started: Debuggee[] = [];
const attachServers: Array<{ close(): Promise<void> }> = [];
const watchMs = 1_500;
const handle = markerLine('HANDLE');
const attachSecret = 'guard-watch-attach-secret-0123456789';

function spawn(name: string, secret?: string): Debuggee {
  const debuggee = startDebuggee({ relayUrl: relay.tcpsUrl.replace('://', `://${relay.secret}@`), name, secret, caFile: relay.caFile });
  started.push(debuggee);
  return debuggee;
}

async function attachTo(target: string, access: ClientAccess = admin): Promise<number> {
  const server = await startAttach(access, target);
  attachServers.push(server);
  return server.address.port;
}

function auditLines(): Array<Record<string, unknown>> {
  return readFileSync(join(relay.dataDir, 'audit.log'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

let watched: Debuggee;
let noEval: Debuggee;
let logsOnly: Debuggee;

beforeAll(async () => {
  relay = await startE2eRelay({
    overrides: {
      policies: { targets: { 'guard-noeval': 'no-eval', 'guard-logs': 'logpoints-only' } },
      pauseWatchdog: { targets: { 'guard-watch': watchMs } },
    },
  });
  admin = { relayUrl: relay.tcpsUrl, caFile: relay.caFile, secret: relay.secret };
  watched = spawn('guard-watch', attachSecret);
  noEval = spawn('guard-noeval');
  logsOnly = spawn('guard-logs');
  await waitForTargets(admin, (t) => ['guard-watch', 'guard-noeval', 'guard-logs'].every((n) => t.some((x) => x.name === n)), 30_000);
}, 60_000);

afterAll(async () => {
  for (const server of attachServers) await server.close().catch(() => undefined);
  for (const debuggee of started) debuggee.kill();
  if (!relayStopped) await relay?.stop();
});

describe('pause watchdog and one debugger per target', () => {
  let holder: DapTestClient;

  it('resumes a debuggee paused longer than the bound and tells the client why', async () => {
    const holderAccess = { ...admin, secret: attachSecret }; // principal attach-secret:guard-watch
    holder = await attachSession(await attachTo('guard-watch', holderAccess), { breakpoints: { path: webAppPath, lines: [{ line: handle }] } });
    const { event } = await waitForStop(holder, 'breakpoint');
    const stoppedAt = Date.now();
    const mark = watched.outputLength();
    const output = await holder.waitForEvent<DebugProtocol.OutputEvent>('output', (e) => e.body.output.includes('pauseWatchdog'), watchMs + 5_000);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(watchMs - 100);
    expect(output.body.output).toMatch(/the relay resumed it/);
    await holder.waitForEvent<DebugProtocol.ContinuedEvent>('continued', (e) => e.body.threadId === event.body.threadId, 5_000);
    // The program runs again: the main loop prints its next tick.
    await watched.waitForOutput(/tick \d+/, 5_000, mark);
    const resumed = auditLines().filter((l) => l['event'] === 'watchdog.resumed');
    expect(resumed[0]).toMatchObject({ target: 'guard-watch', principal: 'attach-secret:guard-watch', maxPauseMs: watchMs, threadId: event.body.threadId });
    await holder.request('setBreakpoints', { source: { path: webAppPath }, breakpoints: [] });
    // Not `continue`: pydevd answers it only once a thread resumes, and none is stopped.
  });

  it('refuses a second debugger, naming the holder and since when', async () => {
    const other = await DapTestClient.connect(await attachTo('guard-watch'));
    const error = await other.request('initialize', { adapterID: 'debugpy' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DapRequestError);
    expect((error as Error).message).toMatch(/target "guard-watch" is being debugged by attach-secret:guard-watch since \d{4}-\d\d-\d\dT.*TARGET_BUSY/);
    await other.closed;
    expect(auditLines().some((l) => l['event'] === 'session.refused' && l['code'] === 'TARGET_BUSY' && l['principal'] === 'relay-secret')).toBe(true);
    // The holder is undisturbed.
    const { body } = await holder.request<DebugProtocol.ThreadsResponse>('threads');
    expect(body.threads.length).toBeGreaterThan(0);
    await holder.request('disconnect', { terminateDebuggee: false });
    await holder.close();
  });
});

describe('policies per target', () => {
  it('no-eval: evaluate and conditions are refused naming the policy; inspection works', async () => {
    const client = await attachSession(await attachTo('guard-noeval'), { breakpoints: { path: webAppPath, lines: [{ line: handle }] } });
    const { event, frame } = await waitForStop(client, 'breakpoint');
    const refused = await evaluate(client, 'n', frame.id).catch((e: unknown) => e);
    expect((refused as Error).message).toContain('refused by policy "no-eval": evaluate runs code in the debuggee');
    const conditional = await client.request('setBreakpoints', { source: { path: webAppPath }, breakpoints: [{ line: handle, condition: 'n > 1' }] }).catch((e: unknown) => e);
    expect((conditional as Error).message).toContain('refused by policy "no-eval"');
    const scopes = await client.request<DebugProtocol.ScopesResponse>('scopes', { frameId: frame.id });
    expect(scopes.body.scopes.length).toBeGreaterThan(0);
    await client.request('setBreakpoints', { source: { path: webAppPath }, breakpoints: [] });
    await client.request('continue', { threadId: event.body.threadId });
    await client.request('disconnect', { terminateDebuggee: false });
    await client.close();
  });

  it('logpoints-only: logpoints work, anything that can stop the process is refused', async () => {
    const client = await attachSession(await attachTo('guard-logs'), {
      breakpoints: { path: webAppPath, lines: [{ line: handle, logMessage: 'logpoint n={n}' }] },
    });
    const logged = await client.waitForEvent<DebugProtocol.OutputEvent>('output', (e) => /logpoint n=\d+/.test(e.body.output), 10_000);
    expect(logged.body.output).toMatch(/logpoint n=\d+/);
    const plain = await client.request('setBreakpoints', { source: { path: webAppPath }, breakpoints: [{ line: handle }] }).catch((e: unknown) => e);
    expect((plain as Error).message).toContain('refused by policy "logpoints-only"');
    const { body } = await client.request<DebugProtocol.ThreadsResponse>('threads');
    const pause = await client.request('pause', { threadId: body.threads[0]!.id }).catch((e: unknown) => e);
    expect((pause as Error).message).toContain('refused by policy "logpoints-only": pause can stop the process');
    const exceptions = await client.request('setExceptionBreakpoints', { filters: ['raised'] }).catch((e: unknown) => e);
    expect((exceptions as Error).message).toContain('refused by policy "logpoints-only"');
    expect(client.events.some((e) => e.event === 'stopped')).toBe(false);
    const mark = logsOnly.outputLength();
    await logsOnly.waitForOutput(/tick \d+/, 5_000, mark); // never stopped
    await client.request('disconnect', { terminateDebuggee: false });
    await client.close();
  });
});

describe('relay shutdown', () => {
  it('detaches every attached debugger, so a paused program runs again', async () => {
    const client = await attachSession(await attachTo('guard-noeval'), { breakpoints: { path: webAppPath, lines: [{ line: handle }] } });
    await waitForStop(client, 'breakpoint');
    const mark = noEval.outputLength();
    relayStopped = true;
    await relay.stop();
    await client.closed;
    const detached = auditLines().filter((l) => l['event'] === 'session.detached' && l['target'] === 'guard-noeval');
    expect(detached.at(-1)).toMatchObject({ outcome: 'detached' });
    await noEval.waitForOutput(/tick \d+\n(.|\n)*tick \d+/, 10_000, mark);
  });
});
