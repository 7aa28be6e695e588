import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** A small HTTP CONNECT proxy on loopback that records what it was asked to reach. */
export interface ConnectProxy {
  readonly url: string;
  readonly port: number;
  /** `host:port` of every CONNECT, in order. */
  readonly targets: string[];
  /** `Proxy-Authorization` headers received (to check they are sent; never logged by the code under test). */
  readonly authorizations: string[];
  close(): Promise<void>;
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Starts an HTTP proxy on 127.0.0.1 that only does `CONNECT host:port` (RFC 9110
 * §9.3.6): it answers 200 and splices the connection to the target. With
 * `requireAuthorization`, a CONNECT without that exact `Proxy-Authorization` gets 407.
 */
export async function startConnectProxy(options: { requireAuthorization?: string } = {}): Promise<ConnectProxy> {
  const targets: string[] = [];
  const authorizations: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onData);
      const lines = head.subarray(0, end).toString('latin1').split('\r\n');
      const [method, authority] = lines[0]!.split(' ');
      const authorization = lines.find((line) => /^proxy-authorization:/i.test(line))?.replace(/^[^:]+:\s*/, '');
      if (authorization !== undefined) authorizations.push(authorization);
      const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(authority ?? '');
      if (method !== 'CONNECT' || !match) return void client.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n');
      if (options.requireAuthorization !== undefined && authorization !== options.requireAuthorization) {
        return void client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n');
      }
      targets.push(authority!);
      const upstream = connect({ host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]), noDelay: true });
      sockets.add(upstream);
      upstream.once('close', () => sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      upstream.once('connect', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        const rest = head.subarray(end + 4);
        if (rest.length > 0) upstream.write(rest);
        client.pipe(upstream).pipe(client);
      });
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port, targets, authorizations, close: () => closeServer(server, sockets) };
}

/** A TCP port forwarder whose upstream connections come from a chosen loopback address. */
export interface SourceForwarder {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 and forwards every connection to `127.0.0.1:targetPort` from
 * `localAddress` (another loopback address, e.g. 127.0.0.2; Linux routes all of
 * 127.0.0.0/8 to `lo`). A front end behind it sees `localAddress` as the client, which
 * differs from its own address, so the test can tell a forwarded client address from
 * the front end's.
 */
export async function startSourceForwarder(targetPort: number, localAddress: string): Promise<SourceForwarder> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort, localAddress, noDelay: true });
    client.setNoDelay(true);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => closeServer(server, sockets) };
}

/** A free TCP port on 127.0.0.1 (for programs that take a port, not port 0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
