import type { AddressInfo, Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { hostPort } from '../common/hostPort.js';
import type { Logger } from '../log/logger.js';

/** Where a listener accepts connections. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  /** `wss://host:port`, `tcps://host:port`, `ssh://host:port`, or `ws://host:port` for a wss listener without TLS (IPv6 hosts in brackets). */
  readonly url: string;
}

/** A started listener. */
export interface RunningListener {
  readonly address: ListenAddress;
  /** Stops accepting, destroys every connection it accepted, resolves when closed. */
  close(): Promise<void>;
}

/**
 * Starts `server` listening; resolves with its address. Afterwards server errors
 * (e.g. EMFILE while accepting) are logged: no peer may take the relay down.
 */
export function listen(server: Server, host: string, port: number, scheme: 'wss' | 'ws' | 'tcps' | 'ssh', logger: Logger): Promise<ListenAddress> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      server.on('error', (error: NodeJS.ErrnoException) => logger.error({ scheme, code: error.code }, 'listener error'));
      const address = server.address() as AddressInfo;
      resolve({ host: address.address, port: address.port, url: `${scheme}://${hostPort(address.address, address.port)}` });
    });
  });
}

/** The set of sockets a listener accepted, so that closing it can destroy them all. */
export class SocketSet {
  private readonly sockets = new Set<Duplex>();

  add(socket: Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }
}

/** `ip:port` of a socket's peer, for logs. */
export function peerAddress(socket: Socket | Duplex): string {
  const s = socket as Partial<Socket>;
  return `${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`;
}

/** Closes `server` and resolves when it has (an already closed server resolves at once). */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/** The {@link RunningListener} of `server` at `address`: closing stops accepting and destroys every socket of `sockets`. */
export function runningListener(server: Server, sockets: SocketSet, address: ListenAddress): RunningListener {
  return {
    address,
    close: async () => {
      const closed = closeServer(server);
      sockets.destroyAll();
      await closed;
    },
  };
}
