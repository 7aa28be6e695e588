import { dirname } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttachServer } from '../../src/client/attachServer.js';
import type { DapTestClient } from '../support/dap/dapTestClient.js';
import { startDebuggee, markerLine, webAppPath, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { attachSession, evaluate, startAttach, waitForStop, waitForTargets, type ClientAccess } from '../support/relay/relayClient.js';

/**
 * The whole debugging scenario of a real debugpy in a real Python process, driven by
 * a real DAP client through `dbgrelay attach` → relay → agent bridge, over each of
 * the relay's transports. The steps share one debuggee and run in order.
 */
const localRoot = '/local/project';
const localApp = `${localRoot}/webApp.py`;
const attachArguments = { pathMappings: [{ localRoot, remoteRoot: dirname(webAppPath) }] };
const line = {
  handle: markerLine('HANDLE'),
  call: markerLine('CALL'),
  compute: markerLine('COMPUTE'),
  ret: markerLine('RETURN'),
  child: markerLine('CHILD'),
};

let relay: E2eRelay;
beforeAll(async () => {
  relay = await startE2eRelay();
});
afterAll(async () => {
  await relay?.stop();
});

describe.each(['wss', 'tcps'] as const)('a debugging session through the relay over %s', (transport) => {
  const name = `web-${transport}`;
  let debuggee: Debuggee;
  let attach: AttachServer;
  let client: DapTestClient;
  let threadId: number;
  let frameId: number;
  let access: ClientAccess;

  beforeAll(async () => {
    const relayUrl = transport === 'wss' ? relay.wssUrl : relay.tcpsUrl;
    access = { relayUrl, caFile: relay.caFile, secret: relay.secret };
    debuggee = startDebuggee({
      relayUrl,
      name,
      secret: relay.secret,
      caFile: relay.caFile,
      env: process.env['DPYLOG'] ? { DEBUGPY_LOG_DIR: process.env['DPYLOG'] + '/' + transport } : {},
    });
    await waitForTargets(access, (targets) => targets.some((t) => t.name === name));
    attach = await startAttach(access, name);
  });
  afterAll(async () => {
    await client?.close();
    await attach?.close();
    debuggee?.kill();
  });

  const stopHere = async (reason?: string) => {
    const { event, frame } = await waitForStop(client, reason);
    threadId = event.body.threadId!;
    frameId = frame.id;
    return frame;
  };
  const setBreakpoints = (lines: DebugProtocol.SourceBreakpoint[]) => client.request('setBreakpoints', { source: { path: localApp }, breakpoints: lines });

  it('lists the target with its process facts', async () => {
    const [target] = (await waitForTargets(access, (t) => t.some((x) => x.name === name))).filter((t) => t.name === name);
    expect(target).toMatchObject({ name, pid: debuggee.process.pid, debugpy: '1.8.22', transport });
    expect(target!.python).toMatch(/^3\.\d+\.\d+/);
    expect(target!.host.length).toBeGreaterThan(0);
    expect(Date.parse(target!.connectedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('attaches with pathMappings and stops at a line breakpoint', async () => {
    client = await attachSession(attach.address.port, {
      attachArguments,
      breakpoints: { path: localApp, lines: [{ line: line.handle }] },
    });
    const frame = await stopHere('breakpoint');
    expect(frame.name).toBe('handle_request');
    expect(frame.line).toBe(line.handle);
    expect(frame.source?.path).toBe(localApp);
  });

  it('lists the main thread, the worker thread and the asyncio thread', async () => {
    const { body } = await client.request<DebugProtocol.ThreadsResponse>('threads');
    const names = body.threads.map((t) => t.name);
    expect(names.some((n) => n.includes('MainThread'))).toBe(true);
    expect(names.some((n) => n.includes('worker'))).toBe(true);
    expect(names.some((n) => n.includes('asyncio-loop'))).toBe(true);
  });

  it('shows the stack, scopes and variables, and evaluates in the frame', async () => {
    const trace = await client.request<DebugProtocol.StackTraceResponse>('stackTrace', { threadId });
    expect(trace.body.stackFrames.map((f) => f.name).slice(0, 2)).toEqual(['handle_request', 'main']);
    const scopes = await client.request<DebugProtocol.ScopesResponse>('scopes', { frameId });
    const locals = scopes.body.scopes.find((s) => s.name === 'Locals');
    expect(locals).toBeDefined();
    const vars = await client.request<DebugProtocol.VariablesResponse>('variables', { variablesReference: locals!.variablesReference });
    const n = vars.body.variables.find((v) => v.name === 'n');
    expect(n?.type).toBe('int');
    expect(await evaluate(client, 'n * 10', frameId)).toBe(String(Number(n!.value) * 10));
  });

  it('steps with next, stepIn and stepOut', async () => {
    await client.request('next', { threadId });
    expect((await stopHere('step')).line).toBe(line.handle + 1);
    await client.request('next', { threadId });
    expect((await stopHere('step')).line).toBe(line.call);
    await client.request('stepIn', { threadId });
    const inside = await stopHere('step');
    expect([inside.name, inside.line]).toEqual(['compute', line.compute]);
    await client.request('stepOut', { threadId });
    const back = await stopHere('step');
    expect(back.name).toBe('handle_request');
    expect([line.call, line.ret]).toContain(back.line);
  });

  it('stops at a conditional breakpoint only when the condition holds', async () => {
    await setBreakpoints([{ line: line.handle, condition: 'n % 7 == 0' }]);
    await client.request('continue', { threadId });
    await stopHere('breakpoint');
    expect(await evaluate(client, 'n % 7', frameId)).toBe('0');
  });

  it('stops at a hit-count breakpoint on the third hit', async () => {
    const n0 = Number(await evaluate(client, 'n', frameId));
    await setBreakpoints([{ line: line.compute, hitCondition: '3' }]);
    await client.request('continue', { threadId });
    const frame = await stopHere('breakpoint');
    expect(frame.name).toBe('compute');
    // Paused before iteration n0 called compute: hits are n0, n0+1, n0+2.
    expect(await evaluate(client, 'x', frameId)).toBe(String(2 * (n0 + 2)));
  });

  it('logs through a logpoint without stopping', async () => {
    await setBreakpoints([{ line: line.ret, logMessage: 'logpoint label={label}' }]);
    const stopsBefore = client.events.filter((e) => e.event === 'stopped').length;
    await client.request('continue', { threadId });
    const output = await client.waitForEvent<DebugProtocol.OutputEvent>('output', (e) => e.body.output.includes('logpoint label=req-'));
    expect(output.body.output).toMatch(/logpoint label=req-\d+/);
    await new Promise((r) => setTimeout(r, 1000));
    expect(client.events.filter((e) => e.event === 'stopped').length).toBe(stopsBefore);
    await setBreakpoints([]);
  });

  it('stops on a raised exception, then on an uncaught one', async () => {
    await client.request('setExceptionBreakpoints', { filters: ['raised'] });
    debuggee.trigger('raise');
    const raised = await stopHere('exception');
    expect(raised.name).toBe('raise_and_catch');
    const info = await client.request<DebugProtocol.ExceptionInfoResponse>('exceptionInfo', { threadId });
    expect(info.body.exceptionId).toContain('ValueError');

    await client.request('setExceptionBreakpoints', { filters: ['uncaught'] });
    await client.request('continue', { threadId });
    debuggee.trigger('uncaught');
    await stopHere('exception');
    const uncaught = await client.request<DebugProtocol.ExceptionInfoResponse>('exceptionInfo', { threadId });
    expect(uncaught.body.exceptionId).toContain('RuntimeError');
    await client.request('setExceptionBreakpoints', { filters: [] });
    await client.request('continue', { threadId });
  });

  it('pauses a running program', async () => {
    await new Promise((r) => setTimeout(r, 300));
    const { body } = await client.request<DebugProtocol.ThreadsResponse>('threads');
    const main = body.threads.find((t) => t.name.includes('MainThread'))!;
    await client.request('pause', { threadId: main.id });
    await stopHere('pause');
    await client.request('continue', { threadId });
  });

  it('disconnects and leaves the program running', async () => {
    await client.request('disconnect', { terminateDebuggee: false, restart: false });
    await client.close();
    const mark = debuggee.outputLength();
    await debuggee.waitForOutput(/tick \d+/, 10_000, mark);
    await debuggee.waitForOutput(/worker \d+/, 10_000, mark);
  });

  it('attaches a second time to the same target', async () => {
    client = await attachSession(attach.address.port, {
      attachArguments,
      breakpoints: { path: localApp, lines: [{ line: line.handle }] },
    });
    const frame = await stopHere('breakpoint');
    expect(frame.line).toBe(line.handle);
    await setBreakpoints([]);
    await client.request('continue', { threadId });
  });

  it('debugs a multiprocessing child through the same local port', async () => {
    // Like VS Code, attach to every process debugpy announces: the first spawn also
    // starts multiprocessing's resource tracker, which is announced too.
    const children: Array<Promise<DapTestClient>> = [];
    const announcements: DebugProtocol.StartDebuggingRequestArguments[] = [];
    const childStopped = new Promise<{ child: DapTestClient; stop: Awaited<ReturnType<typeof waitForStop>> }>((resolve, reject) => {
      client.onReverseRequest('startDebugging', (request) => {
        const announcement = request.arguments as DebugProtocol.StartDebuggingRequestArguments;
        announcements.push(announcement);
        const configuration = announcement.configuration as { connect: { port: number } };
        const child = attachSession(configuration.connect.port, {
          attachArguments: configuration,
          breakpoints: { path: localApp, lines: [{ line: line.child }] },
        });
        children.push(child);
        child.then(
          (c) =>
            waitForStop(c, 'breakpoint', 20_000).then(
              (stop) => resolve({ child: c, stop }),
              () => undefined,
            ),
          reject,
        );
        return {};
      });
    });
    debuggee.trigger('spawn');
    const { child, stop } = await childStopped;
    try {
      for (const announcement of announcements) {
        expect(announcement.request).toBe('attach');
        const configuration = announcement.configuration as { connect?: { host: string; port: number }; subProcessId?: number };
        // The agent's adapter port is on the remote host; the client rewrote it to its own endpoint.
        expect(configuration.connect).toEqual({ host: '127.0.0.1', port: attach.address.port });
        expect(configuration.subProcessId).toBeGreaterThan(0);
      }
      expect(stop.frame.name).toBe('child_main');
      expect(await evaluate(child, 'value', stop.frame.id)).toBe('41');
      const mark = debuggee.outputLength();
      await child.request('continue', { threadId: stop.event.body.threadId });
      await debuggee.waitForOutput(/child value 42/, 15_000, mark);
    } finally {
      for (const pending of children)
        await pending.then(
          (c) => c.close(),
          () => undefined,
        );
    }
    await client.request('disconnect', { terminateDebuggee: false });
    await client.close();
  });
});
