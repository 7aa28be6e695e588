import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketTransport } from '../../../src/transport/socketTransport.js';

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const client = createConnection({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
  const [serverSide] = (await accepted) as [Socket];
  cleanup.push(() => {
    client.destroy();
    serverSide.destroy();
    server.close();
  });
  return [client, serverSide];
}

describe('SocketTransport', () => {
  it('delivers leftover bytes and early data to a late listener, in order', async () => {
    const [client, serverSide] = await socketPair();
    const transport = new SocketTransport(serverSide, 'tcp', Buffer.from('left-'));
    client.write('over');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const chunks: Buffer[] = [];
    transport.onData((chunk) => chunks.push(chunk));
    expect(Buffer.concat(chunks).toString()).toBe('left-over');
  });

  it('reports close once when the peer goes away, and drops sends after close', async () => {
    const [client, serverSide] = await socketPair();
    const transport = new SocketTransport(serverSide, 'tcp');
    const closes: Array<Error | undefined> = [];
    transport.onClose((error) => closes.push(error));
    client.end();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closes).toHaveLength(1);
    expect(transport.closed).toBe(true);
    expect(() => transport.send(Buffer.from('late'))).not.toThrow();
  });
});
