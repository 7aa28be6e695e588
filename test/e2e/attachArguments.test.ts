import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DapRequestError, DapTestClient } from '../support/dap/dapTestClient.js';
import { markerLine, startDebuggee, webAppPath, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { startAttach, waitForStop, waitForTargets, type ClientAccess } from '../support/relay/relayClient.js';

/**
 * The relay's allow-list of `attach` arguments with the real relay, agent and debugpy:
 * an `attach` that would make debugpy act on the host (`processId` injects a debug
 * server into a process, `debugpyArgs` are that injector's arguments) and `launch` are
 * refused at the relay, nothing new runs on the host, and the same session then
 * attaches normally.
 */
let relay: E2eRelay;
let access: ClientAccess;
let debuggee: Debuggee;
const attachServers: Array<{ close(): Promise<void> }> = [];
const handle = markerLine('HANDLE');

function auditLines(): Array<Record<string, unknown>> {
  return readFileSync(join(relay.dataDir, 'audit.log'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function refusal(promise: Promise<unknown>): Promise<DapRequestError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DapRequestError);
  return error as DapRequestError;
}

beforeAll(async () => {
  relay = await startE2eRelay();
  access = { relayUrl: relay.tcpsUrl, caFile: relay.caFile, secret: relay.secret };
  debuggee = startDebuggee({ relayUrl: relay.tcpsUrl.replace('://', `://${relay.secret}@`), name: 'attach-args', secret: undefined, caFile: relay.caFile });
  await waitForTargets(access, (targets) => targets.some((t) => t.name === 'attach-args'), 30_000);
}, 60_000);

afterAll(async () => {
  for (const server of attachServers) await server.close().catch(() => undefined);
  debuggee?.kill();
  await relay?.stop();
});

describe('attach arguments through the relay', () => {
  it('refuses processId, debugpyArgs and launch; nothing new runs on the host; a normal attach then works', async () => {
    const server = await startAttach(access, 'attach-args');
    attachServers.push(server);
    const client = await DapTestClient.connect(server.address.port);
    await client.request('initialize', {
      clientID: 'dbgrelay-e2e',
      adapterID: 'debugpy',
      pathFormat: 'path',
      linesStartAt1: true,
      columnsStartAt1: true,
      supportsStartDebuggingRequest: true,
    });
    const before = debuggee.family().sort();
    expect(before.length).toBeGreaterThan(0);

    // Attach by PID would have debugpy's adapter spawn an injector (gdb/lldb and a
    // python) against the given process: here the debuggee itself.
    const byPid = await refusal(client.request('attach', { justMyCode: false, processId: debuggee.process.pid }, 20_000));
    expect(byPid.message).toContain('attach argument "processId" refused');
    const withArgs = await refusal(client.request('attach', { justMyCode: false, debugpyArgs: ['--log-to', '/tmp'] }, 20_000));
    expect(withArgs.message).toContain('attach argument "debugpyArgs" refused');
    const launch = await refusal(client.request('launch', { program: webAppPath }, 20_000));
    expect(launch.message).toContain('launch refused');

    // Long enough for an injector to have started had anything reached debugpy.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(debuggee.family().sort()).toEqual(before);

    // The same session goes on: a normal attach (VS Code sends connect; the relay
    // removes it) is answered, and a breakpoint is hit.
    const attached = client.request('attach', { justMyCode: false, connect: { host: 'localhost', port: server.address.port } }, 20_000);
    await client.waitForEvent('initialized', undefined, 20_000);
    await client.request('setBreakpoints', { source: { path: webAppPath }, breakpoints: [{ line: handle }] });
    await client.request('setExceptionBreakpoints', { filters: [] });
    await client.request('configurationDone', {});
    await attached;
    const { event, frame } = await waitForStop(client, 'breakpoint');
    expect(frame.line).toBe(handle);
    await client.request('setBreakpoints', { source: { path: webAppPath }, breakpoints: [] });
    await client.request('continue', { threadId: event.body.threadId });
    const threads = await client.request<DebugProtocol.ThreadsResponse>('threads');
    expect(threads.body.threads.length).toBeGreaterThan(0);
    await client.request('disconnect', { terminateDebuggee: false });
    await client.close();
    const mark = debuggee.outputLength();
    await debuggee.waitForOutput(/tick \d+/, 10_000, mark);

    const refused = auditLines().filter((l) => l['event'] === 'dap.refused' && l['guard'] === 'attachArguments');
    expect(refused.map((l) => [l['command'], l['keys'] ?? null])).toEqual([
      ['attach', ['processId']],
      ['attach', ['debugpyArgs']],
      ['launch', null],
    ]);
    expect(refused.every((l) => l['target'] === 'attach-args' && l['principal'] === 'relay-secret')).toBe(true);
    expect(auditLines().filter((l) => l['event'] === 'session.opened' && l['target'] === 'attach-args')).toHaveLength(1);
  }, 90_000);
});
