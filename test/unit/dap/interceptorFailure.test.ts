import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, describe, expect, it } from 'vitest';
import { DapFramer, encodeDapMessage } from '../../../src/dap/dapFramer.js';
import { dapErrorResponse, relayErrorMessageId } from '../../../src/dap/dapErrorResponse.js';
import { DapPipe, type DapInterceptor, type DapInterceptors, type DapPipeCloseReason, type DapPipeLogger } from '../../../src/dap/dapPipe.js';
import type { DapMessage } from '../../../src/dap/dapMessage.js';
import { MemoryTransport } from '../../../src/transport/memoryTransport.js';
import { MemoryAuditSink, trackedSessions } from '../../support/harness/guardedHarness.js';

/** Lets every queued memory-transport hop run (one hop per turn of the event loop). */
const tick = async (): Promise<void> => {
  for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
};

function collect(transport: MemoryTransport): () => DapMessage[] {
  const chunks: Buffer[] = [];
  transport.onData((chunk) => chunks.push(chunk));
  return () => new DapFramer(1 << 20).push(Buffer.concat(chunks)).map((f) => JSON.parse(f.body.toString('utf8')) as DapMessage);
}

const seqBase = 0x2000_0000;
const pipes: DapPipe[] = [];
afterEach(() => {
  for (const pipe of pipes.splice(0)) pipe.close();
});

function setup(interceptors: DapInterceptors) {
  const [client, clientRelaySide] = MemoryTransport.pair();
  const [adapterRelaySide, adapter] = MemoryTransport.pair();
  const closes: DapPipeCloseReason[] = [];
  const logged: Array<{ fields: Parameters<DapPipeLogger['error']>[0]; message: string }> = [];
  const pipe = new DapPipe(clientRelaySide, adapterRelaySide, {
    maxMessageBytes: 1 << 16,
    interceptors,
    ownSeqBase: seqBase,
    logger: { error: (fields, message) => logged.push({ fields, message }) },
    onClose: (reason) => closes.push(reason),
  });
  pipes.push(pipe);
  return { client, adapter, pipe, closes, logged, atClient: collect(client), atAdapter: collect(adapter) };
}

const throwing: DapInterceptor = () => {
  throw new TypeError('guard bug');
};

const internalError = (requestSeq: number, command: string) => ({
  type: 'response',
  request_seq: requestSeq,
  command,
  success: false,
  body: { error: { id: relayErrorMessageId, format: '{message}', variables: { code: 'INTERNAL' } } },
});

describe('DapPipe: a failing interceptor', () => {
  it('answers the request it failed on with an INTERNAL error response and keeps forwarding', async () => {
    const { client, atClient, atAdapter, closes, logged } = setup({ toAdapter: new Map([['evaluate', throwing]]) });
    client.send(encodeDapMessage({ type: 'request', seq: 7, command: 'evaluate', arguments: { expression: 'x' } }));
    client.send(encodeDapMessage({ type: 'request', seq: 8, command: 'threads' }));
    await tick();
    expect(atClient()).toHaveLength(1);
    expect(atClient()[0]).toMatchObject({ ...internalError(7, 'evaluate'), seq: seqBase });
    const [response] = atClient() as DebugProtocol.Response[];
    expect(response!.message).toMatch(/^dbgrelay: .*INTERNAL/);
    expect(response!.body.error.variables.message).toBe(response!.message);
    expect(atAdapter()).toEqual([{ type: 'request', seq: 8, command: 'threads' }]);
    expect(closes).toEqual([]);
    expect(logged).toHaveLength(1);
    expect(logged[0]!.fields).toMatchObject({ direction: 'toAdapter', type: 'request', name: 'evaluate' });
    expect(logged[0]!.fields.err.stack).toContain('guard bug');
  });

  it('answers a reverse request it failed on toward the adapter', async () => {
    const { adapter, atClient, atAdapter, closes } = setup({ toClient: new Map([['runInTerminal', throwing]]) });
    adapter.send(encodeDapMessage({ type: 'request', seq: 3, command: 'runInTerminal', arguments: { args: ['sh'] } }));
    await tick();
    expect(atAdapter()).toHaveLength(1);
    expect(atAdapter()[0]).toMatchObject(internalError(3, 'runInTerminal'));
    expect(atClient()).toEqual([]);
    expect(closes).toEqual([]);
  });

  it('drops an event it failed on and keeps the session', async () => {
    const { adapter, atClient, closes, logged } = setup({ toClient: new Map([['stopped', throwing]]) });
    adapter.send(encodeDapMessage({ type: 'event', seq: 4, event: 'stopped', body: { reason: 'breakpoint', threadId: 1 } }));
    adapter.send(encodeDapMessage({ type: 'event', seq: 5, event: 'output', body: { output: 'hi' } }));
    await tick();
    expect(atClient()).toEqual([{ type: 'event', seq: 5, event: 'output', body: { output: 'hi' } }]);
    expect(closes).toEqual([]);
    expect(logged).toHaveLength(1);
  });

  it('drops a response it failed on and answers the waiting client with the error instead', async () => {
    const { client, adapter, atClient, atAdapter, closes } = setup({ toClient: new Map([['variables', throwing]]) });
    client.send(encodeDapMessage({ type: 'request', seq: 9, command: 'variables', arguments: { variablesReference: 1 } }));
    await tick();
    expect(atAdapter()).toHaveLength(1);
    adapter.send(encodeDapMessage({ type: 'response', seq: 6, request_seq: 9, command: 'variables', success: true, body: { variables: [] } }));
    await tick();
    expect(atClient()).toHaveLength(1);
    expect(atClient()[0]).toMatchObject(internalError(9, 'variables'));
    expect(closes).toEqual([]);
  });

  it('answers nobody when the dropped response answered a request the pipe sent itself', async () => {
    let ownSeq = -1;
    const sendsOwnRequest: DapInterceptor = (message, context) => {
      ownSeq = context.nextSeq('toAdapter');
      context.send('toAdapter', { type: 'request', seq: ownSeq, command: 'threads' });
      return message;
    };
    const { client, adapter, atClient, atAdapter, closes, logged } = setup({
      toAdapter: new Map([['evaluate', sendsOwnRequest]]),
      toClient: new Map([['threads', throwing]]),
    });
    client.send(encodeDapMessage({ type: 'request', seq: 3, command: 'evaluate', arguments: { expression: 'x' } }));
    await tick();
    expect(atAdapter().map((m) => (m as DebugProtocol.Request).command)).toEqual(['threads', 'evaluate']);
    adapter.send(encodeDapMessage({ type: 'response', seq: 7, request_seq: ownSeq, command: 'threads', success: true, body: { threads: [] } }));
    await tick();
    expect(atClient()).toEqual([]);
    expect(logged).toHaveLength(1);
    expect(closes).toEqual([]);
  });

  it('still ends the session on a framing error', async () => {
    const { client, closes } = setup({ toAdapter: new Map([['evaluate', throwing]]) });
    client.send(Buffer.from('Content-Length: x\r\n\r\n{}'));
    await tick();
    expect(closes).toHaveLength(1);
    expect(closes[0]).toMatchObject({ closedBy: 'protocolError', side: 'client' });
  });

  it('still ends the session on a message past maxMessageBytes', async () => {
    const { adapter, closes } = setup({});
    adapter.send(Buffer.from(`Content-Length: ${(1 << 16) + 1}\r\n\r\n`));
    await tick();
    expect(closes).toHaveLength(1);
    expect(closes[0]).toMatchObject({ closedBy: 'protocolError', side: 'adapter' });
  });
});

describe('DapInterceptContext', () => {
  it("refuses toward the requester with the pipe's own seq, and a code when given", async () => {
    const refusing: DapInterceptor = (message, context) => context.refuse(message as DebugProtocol.Request, 'no', message.seq === 1 ? undefined : 'INTERNAL');
    const { client, atClient, atAdapter } = setup({ toAdapter: new Map([['evaluate', refusing]]) });
    client.send(encodeDapMessage({ type: 'request', seq: 1, command: 'evaluate' }));
    client.send(encodeDapMessage({ type: 'request', seq: 2, command: 'evaluate' }));
    await tick();
    expect(atAdapter()).toEqual([]);
    expect(atClient()).toEqual([
      { type: 'response', seq: seqBase, request_seq: 1, command: 'evaluate', success: false, message: 'dbgrelay: no' },
      dapErrorResponse({ seq: 2, command: 'evaluate' }, seqBase + 1, 'no', 'INTERNAL'),
    ]);
  });
});

/** An audit sink with a bug: it throws something that is not an audit error. */
class BuggyAuditSink extends MemoryAuditSink {
  buggy = false;
  override record(event: Parameters<MemoryAuditSink['record']>[0]): void {
    if (this.buggy) throw new TypeError('audit sink bug');
    super.record(event);
  }
}

describe('GuardedSession with a failing guard', () => {
  const { open, closeAll } = trackedSessions();
  afterEach(closeAll);

  it('answers the request with INTERNAL and goes on', async () => {
    const audit = new BuggyAuditSink();
    const h = await open({ audit });
    audit.buggy = true;
    const failed = await h.request('evaluate', { expression: '1+1' });
    expect(failed).toMatchObject({ success: false, command: 'evaluate', body: { error: { variables: { code: 'INTERNAL' } } } });
    expect(h.adapter.requests('evaluate')).toHaveLength(0);
    audit.buggy = false;
    expect(await h.request('threads')).toMatchObject({ success: true, command: 'threads' });
  });
});
