import type { AddressInfo, Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Authenticator, Credential, Principal } from '../auth/principal.js';
import { RelayError } from '../common/relayError.js';
import type { RelayConfig } from '../config/configSchema.js';
import type { Logger } from '../log/logger.js';
import type { AgentConnection } from '../targets/agentConnection.js';
import type { TargetRegistry } from '../targets/targetRegistry.js';
import type { AgentHub } from './agentHub.js';
import type { SessionBroker } from './sessionBroker.js';

/** What both listeners share: configuration, TLS material and the relay's parts. */
export interface ListenerContext {
  readonly config: RelayConfig;
  readonly tls: { readonly cert: string; readonly key: string };
  readonly authenticator: Authenticator;
  readonly registry: TargetRegistry<AgentConnection>;
  readonly hub: AgentHub;
  readonly broker: SessionBroker;
  readonly logger: Logger;
  /** Logger tagged `auth`. */
  readonly authLogger: Logger;
}

/** Where a listener accepts connections. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  /** `wss://host:port` or `tcps://host:port` (IPv6 hosts in brackets). */
  readonly url: string;
}

/** A started listener. */
export interface RunningListener {
  readonly address: ListenAddress;
  /** Stops accepting, destroys every connection it accepted, resolves when closed. */
  close(): Promise<void>;
}

/**
 * Authenticates a credential and logs a refusal (tag `auth`) with where it came from;
 * never logs the credential.
 */
export async function authenticate(
  context: ListenerContext,
  credential: Credential | undefined,
  where: Record<string, unknown>,
): Promise<Principal> {
  try {
    return await context.authenticator.authenticate(credential);
  } catch (error) {
    const code = error instanceof RelayError ? error.code : 'INTERNAL';
    context.authLogger.warn({ ...where, code }, 'authentication refused');
    throw error;
  }
}

/**
 * Starts `server` listening; resolves with its address. Afterwards server errors
 * (e.g. EMFILE while accepting) are logged: no peer may take the relay down.
 */
export function listen(server: Server, host: string, port: number, scheme: 'wss' | 'tcps', logger: Logger): Promise<ListenAddress> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      server.on('error', (error: NodeJS.ErrnoException) => logger.error({ scheme, code: error.code }, 'listener error'));
      const address = server.address() as AddressInfo;
      const shownHost = address.address.includes(':') ? `[${address.address}]` : address.address;
      resolve({ host: address.address, port: address.port, url: `${scheme}://${shownHost}:${address.port}` });
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
