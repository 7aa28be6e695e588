import { describe, expect, it } from 'vitest';
import { pipeBytes } from '../../../src/transport/bytePipe.js';
import { MemoryTransport } from '../../../src/transport/memoryTransport.js';

describe('pipeBytes', () => {
  it('copies bytes both ways in order and closes each side when the other closes', async () => {
    const [client, clientEnd] = MemoryTransport.pair();
    const [peerEnd, peer] = MemoryTransport.pair();
    const done = pipeBytes(clientEnd, peerEnd);
    const atPeer: Buffer[] = [];
    const atClient: Buffer[] = [];
    peer.onData((chunk) => atPeer.push(chunk));
    client.onData((chunk) => atClient.push(chunk));
    for (let i = 0; i < 100; i++) client.send(Buffer.from(`c${i};`));
    peer.send(Buffer.from('hello'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(Buffer.concat(atPeer).toString()).toBe(Array.from({ length: 100 }, (_, i) => `c${i};`).join(''));
    expect(Buffer.concat(atClient).toString()).toBe('hello');
    client.close();
    await done;
    expect(peerEnd.closed).toBe(true);
  });

  it('closes the other side at once when one side is already closed', async () => {
    const [, clientEnd] = MemoryTransport.pair();
    const [peerEnd] = MemoryTransport.pair();
    clientEnd.close();
    await pipeBytes(clientEnd, peerEnd);
    expect(peerEnd.closed).toBe(true);
  });
});
