import { Duplex, PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StreamTransport } from '../../../src/transport/streamTransport.js';

/** Two duplex ends joined back to back, like an SSH channel and its peer. */
function duplexPair(): [Duplex, Duplex] {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  const a = Duplex.from({ readable: bToA, writable: aToB });
  const b = Duplex.from({ readable: aToB, writable: bToA });
  return [a, b];
}

describe('StreamTransport', () => {
  it('moves bytes both ways and hands early bytes to the late listener', async () => {
    const [a, b] = duplexPair();
    const transport = new StreamTransport(a, 'ssh', 'ssh:test');
    b.write(Buffer.from('early'));
    await new Promise((resolve) => setImmediate(resolve));
    const received: string[] = [];
    transport.onData((chunk) => received.push(chunk.toString()));
    expect(received).toEqual(['early']);
    const echoed = new Promise<string>((resolve) => b.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    expect(transport.send(Buffer.from('hello'))).toBe(true);
    expect(await echoed).toBe('hello');
    expect(transport.kind).toBe('ssh');
    expect(transport.remoteAddress).toBe('ssh:test');
  });

  it('reports close once, with the error when the stream fails', async () => {
    const [a, b] = duplexPair();
    b.on('error', () => undefined); // the far end sees the failure too; only ours is under test
    const transport = new StreamTransport(a, 'ssh', 'ssh:test');
    const closes: Array<Error | undefined> = [];
    transport.onClose((error) => closes.push(error));
    a.destroy(new Error('channel failed'));
    await new Promise((resolve) => setImmediate(resolve));
    transport.destroy();
    expect(closes).toHaveLength(1);
    expect(closes[0]?.message).toBe('channel failed');
    expect(transport.closed).toBe(true);
    expect(transport.send(Buffer.from('dropped'))).toBe(true);
  });
});
