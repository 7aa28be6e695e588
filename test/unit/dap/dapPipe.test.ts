import { describe, expect, it } from 'vitest';
import { DapFramer, encodeDapMessage } from '../../../src/dap/dapFramer.js';
import { DapPipe, interceptedNameFilter, type AdapterLink, type DapInterceptor, type DapPipeCloseReason, type DapPipeOptions } from '../../../src/dap/dapPipe.js';
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

/**
 * Lets every queued hop run: memory transports deliver with `setImmediate`, one hop per
 * turn of the event loop. Turns, not a timer: a 5 ms timer could fire before the last
 * hop on a loaded machine.
 */
const tick = async (): Promise<void> => {
  for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
};

type SetupOptions = Pick<DapPipeOptions, 'interceptors' | 'onClientGone' | 'clientProtocolErrorNotice'>;

function setup(options: SetupOptions = {}) {
  const [client, clientRelaySide] = MemoryTransport.pair();
  const [adapterRelaySide, adapter] = MemoryTransport.pair();
  const closes: DapPipeCloseReason[] = [];
  const pipe = new DapPipe(clientRelaySide, adapterRelaySide, {
    maxMessageBytes: 1 << 16,
    ...options,
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
    const { client, atClient, atAdapter } = setup({
      interceptors: {
        toAdapter: new Map([
          ['evaluate', evaluate],
          ['threads', threads],
        ]),
      },
    });
    client.send(encodeDapMessage({ type: 'request', seq: 1, command: 'evaluate', arguments: { expression: 'x' } }));
    client.send(encodeDapMessage({ type: 'request', seq: 2, command: 'threads' }));
    client.send(encodeDapMessage({ type: 'request', seq: 3, command: 'stackTrace' }));
    await tick();
    expect(atAdapter.messages().map((m) => [m.seq, (m as { command: string }).command])).toEqual([
      [99, 'threads'],
      [3, 'stackTrace'],
    ]);
    expect(atClient.messages()).toEqual([expect.objectContaining({ type: 'response', request_seq: 1, success: false, message: 'denied by policy' })]);
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

  it('never forwards a body that is not a DAP message toward the adapter, intercepted or not', async () => {
    const { client, closes, atAdapter } = setup();
    client.send(Buffer.from('Content-Length: 2\r\n\r\n[]'));
    await tick();
    expect(closes[0]).toMatchObject({ closedBy: 'protocolError', side: 'client', error: { code: 'BAD_REQUEST' } });
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

describe('DapPipe header canonicalisation toward the adapter', () => {
  const body = '{"type":"request","seq":1,"command":"threads"}';
  const length = Buffer.byteLength(body);
  const canonical = Buffer.from(`Content-Length: ${length}\r\n\r\n${body}`);

  it.each([
    ['lower-case name', `content-length: ${length}\r\n\r\n`],
    ['no space after the colon', `Content-Length:${length}\r\n\r\n`],
    ['an extra field', `Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`],
    ['an extra field after', `Content-Length: ${length}\r\nX: y\r\n\r\n`],
  ])('writes %s as exactly Content-Length: N, split at every byte', async (_name, header) => {
    const framed = Buffer.from(`${header}${body}`);
    for (let cut = 0; cut <= framed.length; cut++) {
      const { client, atAdapter, closes } = setup();
      client.send(framed.subarray(0, cut));
      client.send(framed.subarray(cut));
      await tick();
      expect(atAdapter.bytes().equals(canonical), `cut at ${cut}`).toBe(true);
      expect(closes).toEqual([]);
    }
  });

  it('keeps the exact bytes of a canonical message and re-frames a replaced one', async () => {
    const replace: DapInterceptor = (message) => ({ ...message, seq: 7 }) as DapMessage;
    const { client, atAdapter } = setup({ interceptors: { toAdapter: new Map([['threads', replace]]) } });
    client.send(Buffer.from(`content-length: ${length}\r\n\r\n${body}`));
    await tick();
    expect(atAdapter.bytes().toString('latin1')).toBe(encodeDapMessage({ ...JSON.parse(body), seq: 7 }).toString('latin1'));
  });

  const refused: Array<[string, string]> = [
    ['space before the colon', `Content-Length : ${length}\r\n\r\n`],
    ['leading space', ` Content-Length: ${length}\r\n\r\n`],
    ['folded line', `X: y\r\n Content-Length: ${length}\r\n\r\n`],
    ['duplicate Content-Length', `Content-Length: ${length}\r\nContent-Length: ${length}\r\n\r\n`],
    ['line without colon', `Content-Length ${length}\r\n\r\n`],
    ['non-digit value', `Content-Length: 0x${length.toString(16)}\r\n\r\n`],
  ];

  it.each(refused)('forwards nothing of a header with %s, whatever the chunking, and ends the session', async (_name, header) => {
    const framed = Buffer.from(`${header}${body}`);
    for (let cut = 0; cut <= framed.length; cut++) {
      const { client, adapter, atAdapter, closes } = setup();
      // A good message first: it is forwarded, the bad one after it is not.
      client.send(canonical);
      await tick();
      client.send(framed.subarray(0, cut));
      client.send(framed.subarray(cut));
      await tick();
      expect(atAdapter.bytes().equals(canonical), `cut at ${cut}`).toBe(true);
      expect(closes).toEqual([expect.objectContaining({ closedBy: 'protocolError', side: 'client', error: expect.objectContaining({ code: 'BAD_REQUEST' }) })]);
      expect(adapter.closed).toBe(true);
    }
  });

  it('ends a session whose client broke the protocol like a client loss: notice, then detach through the adapter', async () => {
    const gone: AdapterLink[] = [];
    const { client, adapter, atClient, atAdapter, closes, pipe } = setup({
      clientProtocolErrorNotice: (error) => ({ type: 'event', seq: 900, event: 'output', body: { category: 'important', output: `bye: ${(error as { code?: string }).code}` } }),
      onClientGone: (link) => {
        gone.push(link);
        return new Promise<void>((resolve) => {
          link.onMessage((message) => {
            if (message.type === 'response') resolve();
          });
          link.send({ type: 'request', seq: 500, command: 'disconnect', arguments: { terminateDebuggee: false } });
        });
      },
    });
    client.send(Buffer.from(`Content-Length: ${length}\r\ncontent-length: ${length}\r\n\r\n${body}`));
    await tick();
    expect(gone).toHaveLength(1);
    expect(atAdapter.messages()).toEqual([expect.objectContaining({ command: 'disconnect', arguments: { terminateDebuggee: false } })]);
    expect(adapter.closed).toBe(false); // held open until the detach is answered
    expect(closes).toEqual([]);
    adapter.send(encodeDapMessage({ type: 'response', seq: 1, request_seq: 500, command: 'disconnect', success: true }));
    const reason = await pipe.closed;
    expect(reason).toMatchObject({ closedBy: 'protocolError', side: 'client', error: { code: 'BAD_REQUEST' } });
    expect(closes).toEqual([reason]);
    await tick();
    expect(adapter.closed).toBe(true);
    expect(client.closed).toBe(true);
    expect(atClient.messages()).toEqual([expect.objectContaining({ event: 'output', body: { category: 'important', output: 'bye: BAD_REQUEST' } })]);
  });

  it('destroys both sides at once when the adapter side breaks the protocol (no detach through it)', async () => {
    let detached = false;
    const { adapter, client, atClient, closes } = setup({
      onClientGone: async () => {
        detached = true;
      },
      clientProtocolErrorNotice: () => ({ type: 'event', seq: 1, event: 'output', body: { output: 'x' } }),
    });
    adapter.send(Buffer.from(`Content-Length : 2\r\n\r\n{}`));
    await tick();
    expect(closes).toEqual([expect.objectContaining({ closedBy: 'protocolError', side: 'adapter' })]);
    expect(detached).toBe(false);
    expect(client.closed).toBe(true);
    expect(atClient.bytes().length).toBe(0);
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

  it('takes every name literally, matches any of several, and non-ASCII names byte for byte', () => {
    const several = interceptedNameFilter(['a.b', 'stopped', 'näme', 'x|y']);
    expect(several(Buffer.from('{"event":"stopped"}'))).toBe(true);
    expect(several(Buffer.from('{"event":"a.b"}'))).toBe(true);
    expect(several(Buffer.from('{"event":"aXb"}'))).toBe(false);
    expect(several(Buffer.from('{"event":"näme"}'))).toBe(true);
    expect(several(Buffer.from('{"event":"name"}'))).toBe(false);
    expect(several(Buffer.from('{"event":"x|y"}'))).toBe(true);
    expect(several(Buffer.from('{"event":"x"}'))).toBe(false);
    expect(several(Buffer.from(`{"event":"continued","body":{"text":"${'v'.repeat(10_000)}"}}`))).toBe(false);
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
