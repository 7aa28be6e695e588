import { describe, expect, it, vi } from 'vitest';
import { encodeDapMessage } from '../../../src/dap/dapFramer.js';
import { DapPipe, type DapPipeCloseReason } from '../../../src/dap/dapPipe.js';
import { maxJsonDepth, type JsonDepthBound } from '../../../src/common/jsonDepth.js';
import { MemoryTransport } from '../../../src/transport/memoryTransport.js';

function setup(onFrame?: () => void, intercept = false, jsonDepth?: JsonDepthBound) {
  const [client, clientRelaySide] = MemoryTransport.pair();
  const [adapterRelaySide, adapter] = MemoryTransport.pair();
  const closes: DapPipeCloseReason[] = [];
  new DapPipe(clientRelaySide, adapterRelaySide, {
    maxMessageBytes: 1 << 20,
    ...(jsonDepth ? { jsonDepth } : {}),
    ...(onFrame ? { onFrame } : {}),
    ...(intercept ? { interceptors: { toAdapter: new Map([['evaluate', () => undefined]]), toClient: new Map([['variables', () => undefined]]) } } : {}),
    onClose: (reason) => closes.push(reason),
  });
  return { client, adapter, closes };
}

const frame = (body: string): Buffer => Buffer.concat([Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`), Buffer.from(body)]);
const deep = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);

describe('DapPipe containment', () => {
  it('ends the session, not the process, when onFrame throws', async () => {
    const { client, closes } = setup(() => {
      throw new RangeError('Maximum call stack size exceeded');
    });
    expect(() => client.send(encodeDapMessage({ seq: 1, type: 'request', command: 'threads' }))).not.toThrow();
    await vi.waitFor(() => expect(closes).toHaveLength(1));
    expect(closes[0]).toMatchObject({ closedBy: 'protocolError', side: 'client', error: { code: 'INTERNAL' } });
  });

  it('refuses an intercepted client request nested too deep with BAD_REQUEST', async () => {
    const { client, closes } = setup(undefined, true);
    client.send(frame(`{"seq":1,"type":"request","command":"evaluate","arguments":{"expression":${deep(8000)}}}`));
    await vi.waitFor(() => expect(closes).toHaveLength(1));
    expect(closes[0]).toMatchObject({ closedBy: 'protocolError', side: 'client', error: { code: 'BAD_REQUEST' } });
  });

  it('treats an intercepted adapter message nested too deep as the adapter breaking the protocol', async () => {
    const { adapter, closes } = setup(undefined, true);
    adapter.send(frame(`{"seq":1,"type":"response","request_seq":1,"success":true,"command":"variables","body":${deep(maxJsonDepth + 1)}}`));
    await vi.waitFor(() => expect(closes).toHaveLength(1));
    expect(closes[0]).toMatchObject({ closedBy: 'protocolError', side: 'adapter', error: { code: 'BAD_REQUEST' } });
  });

  it('applies the jsonDepth it is given (limits.maxJsonDepth) and reports each refusal', async () => {
    let refused = 0;
    const { client, adapter, closes } = setup(undefined, true, { maxDepth: 16, onRefused: () => refused++ });
    const received: Buffer[] = [];
    adapter.onData((chunk) => received.push(chunk));
    const atTheBound = frame(`{"seq":1,"type":"request","command":"threads","arguments":${deep(15)}}`);
    client.send(atTheBound);
    await vi.waitFor(() => expect(Buffer.concat(received).equals(atTheBound)).toBe(true));
    client.send(frame(`{"seq":2,"type":"request","command":"threads","arguments":${deep(16)}}`));
    await vi.waitFor(() => expect(closes).toHaveLength(1));
    expect(closes[0]).toMatchObject({ closedBy: 'protocolError', side: 'client', error: { code: 'BAD_REQUEST', message: 'DAP message body nests deeper than 16 levels' } });
    expect(refused).toBe(1);
  });
});
