import { describe, expect, it } from 'vitest';
import { InboundChunks } from '../../../src/transport/inboundChunks.js';
import { StreamTransport } from '../../../src/transport/streamTransport.js';
import { PassThrough } from 'node:stream';

describe('InboundChunks', () => {
  it('reports a receiver that throws instead of letting it escape, and delivers nothing more', () => {
    const errors: unknown[] = [];
    const received: string[] = [];
    const inbound = new InboundChunks((error) => errors.push(error));
    inbound.deliver(Buffer.from('early'));
    inbound.setListener((chunk) => {
      received.push(chunk.toString());
      throw new RangeError('Maximum call stack size exceeded');
    });
    expect(() => inbound.deliver(Buffer.from('late'))).not.toThrow();
    expect(received).toEqual(['early']);
    expect(errors).toEqual([expect.any(RangeError)]);
  });
});

describe('a transport whose receiver throws', () => {
  it('closes with INTERNAL and the process goes on', async () => {
    const stream = new PassThrough();
    const transport = new StreamTransport(stream, 'memory', 'test');
    const closed = new Promise<unknown>((resolve) => transport.onClose((error) => resolve(error)));
    transport.onData(() => {
      throw new TypeError('boom');
    });
    stream.write('bytes');
    await expect(closed).resolves.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('TypeError: boom') });
  });
});
