import { describe, expect, it } from 'vitest';
import { DapFramer, encodeDapMessage } from '../../../src/dap/dapFramer.js';
import { DapPipe, interceptedNameFilter, type DapInterceptor, type DapPipeCloseReason } from '../../../src/dap/dapPipe.js';
import type { DapMessage } from '../../../src/dap/dapMessage.js';
import { MemoryTransport } from '../../../src/transport/memoryTransport.js';
import type { Transport } from '../../../src/transport/transport.js';

/** A transport whose send queue is "full" until the test drains it. */
class BackedUpTransport implements Transport {
  readonly kind = 'memory' as const;
  readonly remoteAddress = 'stub';
  readonly closed = false;
  readonly sent: Buffer[] = [];
  private drain: Array<() => void> = [];
  send(data: Buffer): boolean {
    this.sent.push(data);
    return false;
  }
  onDrain(listener: () => void): void {
    this.drain.push(listener);
  }
  drained(): void {
    for (const listener of this.drain) listener();
  }
  onData(): void {}
  onClose(): void {}
  pause(): void {}
  resume(): void {}
  close(): void {}
  destroy(): void {}
}

/** Collects the raw bytes and the parsed messages arriving on a transport. */
function collect(transport: MemoryTransport): { bytes: () => Buffer; messages: () => DapMessage[] } {
  const chunks: Buffer[] = [];
  transport.onData((chunk) => chunks.push(chunk));
  return {
    bytes: () => Buffer.concat(chunks),
    messages: () => new DapFramer(1 << 20).push(Buffer.concat(chunks)).map((f) => JSON.parse(f.body.toString('utf8')) as DapMessage),
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

function setup(options: { interceptors?: ConstructorParameters<typeof DapPipe>[2]['interceptors'] } = {}) {
  const [client, clientRelaySide] = MemoryTransport.pair();
  const [adapterRelaySide, adapter] = MemoryTransport.pair();
  const closes: DapPipeCloseReason[] = [];
  const pipe = new DapPipe(clientRelaySide, adapterRelaySide, {
    maxMessageBytes: 1 << 16,
    ...(options.interceptors ? { interceptors: options.interceptors } : {}),
    onClose: (reason) => closes.push(reason),
  });
  return { client, adapter, pipe, closes, atClient: collect(client), atAdapter: collect(adapter) };
}

describe('DapPipe', () => {
  it('forwards the exact bytes both ways, whatever the chunking', async () => {
    const { client, adapter, atClient, atAdapter } = setup();
    // Odd spacing and key order: forwarding must not re-encode.
    const body = '{ "type":"request","seq":1, "command":"threads"}';
    const request = Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    client.send(request.subarray(0, 10));
    client.send(request.subarray(10));
    const event = encodeDapMessage({ type: 'event', seq: 1, event: 'initialized' });
    adapter.send(Buffer.concat([event, event]));
    await tick();
    expect(atAdapter.bytes().equals(request)).toBe(true);
    expect(atClient.bytes().equals(Buffer.concat([event, event]))).toBe(true);
  });

  it('lets an interceptor replace or drop a message by name and answer the client', async () => {
    const evaluate: DapInterceptor = (message, context) => {
      context.sendToClient({ type: 'response', seq: 0, request_seq: message.seq, command: 'evaluate', success: false, message: 'denied by policy' });
      return null;
    };
    const threads: DapInterceptor = (message) => ({ ...message, seq: 99 }) as DapMessage;
    const { client, atClient, atAdapter } = setup({ interceptors: { toAdapter: new Map([['evaluate', evaluate], ['threads', threads]]) } });
    client.send(encodeDapMessage({ type: 'request', seq: 1, command: 'evaluate', arguments: { expression: 'x' } }));
    client.send(encodeDapMessage({ type: 'request', seq: 2, command: 'threads' }));
    client.send(encodeDapMessage({ type: 'request', seq: 3, command: 'stackTrace' }));
    await tick();
    expect(atAdapter.messages().map((m) => [m.seq, (m as { command: string }).command])).toEqual([
      [99, 'threads'],
      [3, 'stackTrace'],
    ]);
    expect(atClient.messages()).toEqual([
      expect.objectContaining({ type: 'response', request_seq: 1, success: false, message: 'denied by policy' }),
    ]);
  });

  it('closes the adapter side when the client closes, and says so', async () => {
    const { client, adapter, closes } = setup();
    client.close();
    await tick();
    expect(adapter.closed).toBe(true);
    expect(closes).toEqual([{ closedBy: 'client' }]);
  });

  it('closes the client side when the adapter closes', async () => {
    const { client, adapter, closes } = setup();
    adapter.close();
    await tick();
    expect(client.closed).toBe(true);
    expect(closes[0]?.closedBy).toBe('adapter');
  });

  it('ends the session on a malformed stream without forwarding it', async () => {
    const { client, adapter, closes, atAdapter } = setup();
    client.send(Buffer.from('Content-Length: nope\r\n\r\n{}'));
    await tick();
    expect(closes[0]?.closedBy).toBe('protocolError');
    expect(adapter.closed).toBe(true);
    expect(atAdapter.bytes().length).toBe(0);
  });

  it('ends the session on an oversized message', async () => {
    const { adapter, closes } = setup();
    adapter.send(Buffer.from(`Content-Length: ${1 << 17}\r\n\r\n`));
    await tick();
    expect(closes[0]).toMatchObject({ closedBy: 'protocolError', error: { code: 'MESSAGE_TOO_LARGE' } });
  });

  it('intercepts a name spelled with JSON escapes, which a byte search alone would miss', async () => {
    const seen: string[] = [];
    const { adapter, atClient } = setup({
      interceptors: { toClient: new Map([['runInTerminal', (m: DapMessage) => (seen.push((m as { command: string }).command), null)]]) },
    });
    const body = '{"type":"request","seq":3,"command":"\\u0072unInTerminal","arguments":{}}';
    adapter.send(Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`));
    adapter.send(encodeDapMessage({ type: 'event', seq: 4, event: 'output', body: { output: 'x' } }));
    await tick();
    expect(seen).toEqual(['runInTerminal']);
    expect(atClient.messages().map((m) => m.seq)).toEqual([4]);
  });
});

describe('interceptedNameFilter', () => {
  const filter = interceptedNameFilter(['startDebugging']);
  it.each([
    ['{"type":"request","command":"startDebugging"}', true],
    ['{"type":"request","command":"\\u0073tartDebugging"}', true],
    ['{"type":"request","command":"threads"}', false],
    ['{"type":"response","command":"startDebuggingX"}', false],
  ])('%s → %s', (body, expected) => {
    expect(filter(Buffer.from(body))).toBe(expected);
  });
});

describe('DapPipe backpressure', () => {
  it('stops reading a side while the other cannot keep up, and resumes on drain', async () => {
    const [client, clientRelaySide] = MemoryTransport.pair();
    const adapter = new BackedUpTransport();
    new DapPipe(clientRelaySide, adapter, { maxMessageBytes: 1 << 16 });
    client.send(encodeDapMessage({ type: 'request', seq: 1, command: 'threads' }));
    await tick();
    expect(adapter.sent).toHaveLength(1);
    // Paused: the next message waits in the transport, not in the pipe.
    client.send(encodeDapMessage({ type: 'request', seq: 2, command: 'threads' }));
    await tick();
    expect(adapter.sent).toHaveLength(1);
    adapter.drained();
    await tick();
    expect(adapter.sent).toHaveLength(2);
  });
});
