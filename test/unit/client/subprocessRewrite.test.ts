import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, describe, expect, it } from 'vitest';
import { DapFramer, encodeDapMessage } from '../../../src/dap/dapFramer.js';
import { parseDapMessage, type DapMessage } from '../../../src/dap/dapMessage.js';
import { DapPipe } from '../../../src/dap/dapPipe.js';
import { MemoryTransport } from '../../../src/transport/memoryTransport.js';
import { attachClientSeqBase, rewriteAttachConfiguration, subprocessRewriteInterceptors } from '../../../src/client/subprocessRewrite.js';

const local = { host: '127.0.0.1', port: 5999 };

/** Collects the DAP messages arriving on a transport. */
function inbox(transport: MemoryTransport): { messages: DapMessage[]; next(): Promise<DapMessage> } {
  const framer = new DapFramer(1 << 20);
  const messages: DapMessage[] = [];
  let waiting: ((m: DapMessage) => void) | undefined;
  transport.onData((chunk) => {
    for (const { body } of framer.push(chunk)) {
      const message = parseDapMessage(body);
      messages.push(message);
      waiting?.(message);
    }
  });
  let read = 0;
  return {
    messages,
    next: () =>
      new Promise((resolve, reject) => {
        if (messages.length > read) return resolve(messages[read++]!);
        const timer = setTimeout(() => reject(new Error('no message')), 2000);
        waiting = (m) => {
          clearTimeout(timer);
          waiting = undefined;
          read++;
          resolve(m);
        };
      }),
  };
}

let pipe: DapPipe | undefined;
afterEach(() => pipe?.close());

/** debugger ⇄ [pipe with the rewrite] ⇄ remote adapter, over memory transports. */
function harness(): { debuggerSide: MemoryTransport; adapterSide: MemoryTransport; atDebugger: ReturnType<typeof inbox>; atAdapter: ReturnType<typeof inbox> } {
  const [debuggerSide, pipeClient] = MemoryTransport.pair();
  const [pipeAdapter, adapterSide] = MemoryTransport.pair();
  pipe = new DapPipe(pipeClient, pipeAdapter, { maxMessageBytes: 1 << 20, ownSeqBase: attachClientSeqBase, interceptors: subprocessRewriteInterceptors(() => local) });
  return { debuggerSide, adapterSide, atDebugger: inbox(debuggerSide), atAdapter: inbox(adapterSide) };
}

describe('subprocess rewrite', () => {
  it('rewrites the connect of a debugpyAttach event (debugpy filled in its own loopback port)', async () => {
    const { adapterSide, atDebugger } = harness();
    const event: DebugProtocol.Event = {
      seq: 40,
      type: 'event',
      event: 'debugpyAttach',
      body: {
        type: 'debugpy',
        name: 'Subprocess 77',
        subProcessId: 77,
        request: 'attach',
        connect: { host: '127.0.0.1', port: 41234 },
        pathMappings: [{ localRoot: '/src', remoteRoot: '.' }],
      },
    };
    adapterSide.send(encodeDapMessage(event));
    const got = (await atDebugger.next()) as DebugProtocol.Event;
    expect(got).toEqual({ ...event, body: { ...event.body, connect: local } });
  });

  it('turns a legacy host/port event into connect and strips keys that act locally', async () => {
    const { adapterSide, atDebugger } = harness();
    adapterSide.send(
      encodeDapMessage({
        seq: 3,
        type: 'event',
        event: 'debugpyAttach',
        body: { name: 'Subprocess 5', subProcessId: 5, host: '10.0.0.8', port: 5678, preLaunchTask: 'rm -rf', request: 'launch' },
      }),
    );
    const got = (await atDebugger.next()) as DebugProtocol.Event;
    expect(got.body).toEqual({ name: 'Subprocess 5', subProcessId: 5, connect: local, request: 'attach' });
  });

  it('rewrites the configuration of a startDebugging reverse request, with or without connect', async () => {
    const { adapterSide, atDebugger, debuggerSide, atAdapter } = harness();
    const withConnect: DebugProtocol.StartDebuggingRequest = {
      seq: 9,
      type: 'request',
      command: 'startDebugging',
      arguments: { request: 'attach', configuration: { name: 'Subprocess 9', subProcessId: 9, connect: { host: '::1', port: 40000 }, justMyCode: false } },
    };
    adapterSide.send(encodeDapMessage(withConnect));
    adapterSide.send(encodeDapMessage({ ...withConnect, seq: 10, arguments: { request: 'attach', configuration: { subProcessId: 10 } } }));
    const first = (await atDebugger.next()) as DebugProtocol.StartDebuggingRequest;
    const second = (await atDebugger.next()) as DebugProtocol.StartDebuggingRequest;
    expect(first).toEqual({ ...withConnect, arguments: { request: 'attach', configuration: { name: 'Subprocess 9', subProcessId: 9, connect: local, justMyCode: false } } });
    expect(second.seq).toBe(10);
    expect(second.arguments.configuration).toEqual({ subProcessId: 10, connect: local });
    // The debugger's answer still reaches the adapter untouched.
    debuggerSide.send(encodeDapMessage({ seq: 1, type: 'response', request_seq: 9, command: 'startDebugging', success: true }));
    expect(await atAdapter.next()).toMatchObject({ type: 'response', request_seq: 9, success: true });
  });

  it('refuses startDebugging with launch and runInTerminal, answering the adapter', async () => {
    const { adapterSide, atDebugger, atAdapter } = harness();
    adapterSide.send(encodeDapMessage({ seq: 11, type: 'request', command: 'startDebugging', arguments: { request: 'launch', configuration: { program: '/bin/sh' } } }));
    adapterSide.send(encodeDapMessage({ seq: 12, type: 'request', command: 'runInTerminal', arguments: { cwd: '/', args: ['sh'] } }));
    adapterSide.send(encodeDapMessage({ seq: 13, type: 'event', event: 'output', body: { output: 'hi' } }));
    const refusedLaunch = (await atAdapter.next()) as DebugProtocol.Response;
    const refusedTerminal = (await atAdapter.next()) as DebugProtocol.Response;
    expect(refusedLaunch).toMatchObject({ type: 'response', request_seq: 11, command: 'startDebugging', success: false });
    expect(refusedLaunch.message).toMatch(/only attach/);
    expect(refusedTerminal).toMatchObject({ type: 'response', request_seq: 12, command: 'runInTerminal', success: false });
    // Only the harmless event reached the debugger.
    expect(await atDebugger.next()).toMatchObject({ type: 'event', event: 'output' });
    expect(atDebugger.messages).toHaveLength(1);
  });

  it('leaves the other direction and other messages alone', async () => {
    const { debuggerSide, atAdapter } = harness();
    const attach = { seq: 2, type: 'request', command: 'attach', arguments: { connect: { host: 'remote', port: 1 } } };
    debuggerSide.send(encodeDapMessage(attach));
    expect(await atAdapter.next()).toEqual(attach);
  });

  it('rewriteAttachConfiguration copies rather than mutates', () => {
    const original = { connect: { host: 'h', port: 1 }, host: 'x' };
    const copy = rewriteAttachConfiguration(original, local);
    expect(original).toEqual({ connect: { host: 'h', port: 1 }, host: 'x' });
    expect(copy).toEqual({ connect: local });
    expect(rewriteAttachConfiguration(undefined, local)).toEqual({ connect: local });
  });

  it('forwards only allow-listed keys: anything that could act on the local machine is dropped', () => {
    const remote = {
      name: 'Subprocess 9',
      request: 'attach',
      type: 'debugpy',
      subProcessId: 9,
      justMyCode: false,
      pathMappings: [{ localRoot: '/l', remoteRoot: '/r' }],
      debugServer: 4711,
      serverReadyAction: { action: 'openExternally' },
      linux: { program: '/bin/sh' },
      preLaunchTask: 'build',
      processId: 1,
      internalConsoleOptions: 'openOnSessionStart',
    };
    expect(rewriteAttachConfiguration(remote, local)).toEqual({
      name: 'Subprocess 9',
      request: 'attach',
      type: 'debugpy',
      subProcessId: 9,
      justMyCode: false,
      pathMappings: [{ localRoot: '/l', remoteRoot: '/r' }],
      connect: local,
    });
  });
});
