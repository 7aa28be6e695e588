import type { Duplex } from 'node:stream';
import type { Client, ClientChannel } from 'ssh2';
import { RelayError } from '../common/relayError.js';
import type { Logger } from '../log/logger.js';
import type { SshMetrics } from '../metrics/agentMetrics.js';
import { forwardError } from './sshErrors.js';
import { hostPort } from '../common/hostPort.js';
import { connectHop, type HopConnector, type SshHopSpec } from './sshHop.js';

/** Where a `direct-tcpip` channel goes (debugpy's adapter on the target host). */
export interface SshDestination {
  readonly host: string;
  readonly port: number;
}

/** Options of an {@link SshConnectionPool}. */
export interface SshConnectionPoolOptions {
  readonly logger: Logger;
  /** `dbgrelay_ssh_connections` counts the pool's open connections. */
  readonly metrics?: SshMetrics;
  /** Opens one connection (tests replace it). */
  readonly connect?: HopConnector;
}

interface PooledConnection {
  readonly key: string;
  readonly spec: SshHopSpec;
  readonly ready: Promise<Client>;
  client: Client | undefined;
  /** Open channels: sessions, and connections of jump chains that go through it. */
  channels: number;
  idleTimer: NodeJS.Timeout | undefined;
  closed: boolean;
  /** Counts the connection as closed (metric, log line); once, from the first of close() and the socket's end. */
  finish: ((reason: string | undefined) => void) | undefined;
}

/**
 * SSH connections shared by the sessions of SSH targets: one per chain of hops
 * (`user@host:port`, credential, host key source and bounds, and the jump hosts
 * before it), opened on first use, kept while channels are open (plus
 * `idleTimeoutMs`), dropped from the pool as soon as it closes, so the next open
 * reconnects. Each session and each subprocess session is one `direct-tcpip` channel.
 * A connection through jump hosts rides on a channel of the pooled connection to the
 * hop before it.
 */
export class SshConnectionPool {
  private readonly connections = new Map<string, PooledConnection>();
  private readonly connect: HopConnector;
  private users = 0;

  constructor(private readonly options: SshConnectionPoolOptions) {
    this.connect = options.connect ?? connectHop;
  }

  /** Connections open or being opened. */
  get size(): number {
    return this.connections.size;
  }

  /**
   * Opens a `direct-tcpip` channel to `destination` on the last host of `chain` (jump
   * hosts first). Rejects with an `SSH_*` {@link RelayError}, `AGENT_OPEN_FAILED`
   * (the host could not reach `destination`), or `signal`'s reason; a channel that
   * arrives after `signal` aborted is closed.
   */
  async openChannel(chain: readonly SshHopSpec[], destination: SshDestination, signal: AbortSignal): Promise<ClientChannel> {
    const entry = this.connection(chain);
    const reused = entry.client !== undefined;
    const client = await abortable(entry.ready, signal);
    try {
      return await abortable(this.forward(entry, client, destination, 'debugpy'), signal, (late) => late.destroy());
    } catch (error) {
      // A pooled connection that died unnoticed (its close not yet seen): connect anew, once.
      if (!reused || !entry.closed || signal.aborted) throw error;
      const fresh = this.connection(chain);
      return abortable(this.forward(fresh, await abortable(fresh.ready, signal), destination, 'debugpy'), signal, (late) => late.destroy());
    }
  }

  /** Counts one user (a configured target) of the pool; the last release closes every connection. */
  retain(): () => void {
    this.users += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.users -= 1;
      if (this.users === 0) this.closeAll();
    };
  }

  /** Closes every connection (sessions on them end). */
  closeAll(): void {
    for (const entry of [...this.connections.values()]) this.close(entry, 'the relay closed it');
  }

  private connection(chain: readonly SshHopSpec[]): PooledConnection {
    const key = chain.map((hop) => hop.key).join(' -> ');
    const existing = this.connections.get(key);
    if (existing && !existing.closed) return existing;
    const spec = chain[chain.length - 1]!;
    const via = chain.slice(0, -1);
    const ready = (async () => {
      let sock: Duplex | undefined;
      if (via.length > 0) {
        const parent = this.connection(via);
        sock = await this.forward(parent, await parent.ready, { host: spec.host, port: spec.port }, 'jump host');
      }
      return this.connect(spec, sock);
    })();
    const entry: PooledConnection = { key, spec, ready, client: undefined, channels: 0, idleTimer: undefined, closed: false, finish: undefined };
    this.connections.set(key, entry);
    ready.then(
      (client) => this.opened(entry, client, via),
      () => this.forget(entry),
    );
    return entry;
  }

  private opened(entry: PooledConnection, client: Client, via: readonly SshHopSpec[]): void {
    entry.client = client;
    if (entry.closed) {
      client.end();
      return;
    }
    const log = this.options.logger.child({ ssh: entry.spec.label, ...(via.length > 0 ? { via: via.map((hop) => hop.label) } : {}) });
    const released = this.options.metrics?.opened();
    log.info('ssh connection opened');
    let lastError: Error | undefined;
    let finished = false;
    entry.finish = (reason) => {
      if (finished) return;
      finished = true;
      released?.();
      log.info({ reason }, 'ssh connection closed');
    };
    client.on('error', (error: Error) => (lastError = error));
    client.once('close', () => {
      this.forget(entry);
      entry.closed = true;
      clearTimeout(entry.idleTimer);
      entry.finish?.(lastError?.message ?? 'closed by the host');
    });
    if (entry.channels === 0) this.scheduleIdle(entry);
  }

  private forward(entry: PooledConnection, client: Client, destination: SshDestination, what: 'debugpy' | 'jump host'): Promise<ClientChannel> {
    this.addChannel(entry);
    const target = hostPort(destination.host, destination.port);
    const closedError = (): RelayError => new RelayError('SSH_UNREACHABLE', `ssh connection to ${entry.spec.label} closed`);
    return new Promise<ClientChannel>((resolve, reject) => {
      const onOpened = (error: Error | undefined, channel: ClientChannel): void => {
        if (error) {
          this.removeChannel(entry);
          reject(entry.closed ? closedError() : forwardError(error, entry.spec.label, target, what));
          return;
        }
        channel.once('close', () => this.removeChannel(entry));
        resolve(channel);
      };
      try {
        client.forwardOut('127.0.0.1', 0, destination.host, destination.port, onOpened);
      } catch {
        // ssh2 throws when its socket is no longer writable: the connection is gone.
        this.removeChannel(entry);
        this.close(entry, 'found closed');
        reject(closedError());
      }
    });
  }

  private addChannel(entry: PooledConnection): void {
    entry.channels += 1;
    clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
  }

  private removeChannel(entry: PooledConnection): void {
    entry.channels -= 1;
    if (entry.channels === 0) this.scheduleIdle(entry);
  }

  private scheduleIdle(entry: PooledConnection): void {
    if (entry.closed || entry.client === undefined || entry.spec.idleTimeoutMs === 0) return;
    clearTimeout(entry.idleTimer);
    entry.idleTimer = setTimeout(() => {
      if (entry.channels === 0) this.close(entry, `idle for ${entry.spec.idleTimeoutMs} ms (ssh.idleTimeoutMs)`);
    }, entry.spec.idleTimeoutMs);
    entry.idleTimer.unref();
  }

  private close(entry: PooledConnection, reason: string): void {
    this.forget(entry);
    clearTimeout(entry.idleTimer);
    entry.closed = true;
    // Counted and logged now: the socket closes later, possibly after the relay (and its log) stopped.
    entry.finish?.(reason);
    if (entry.client) entry.client.end();
    else
      entry.ready.then(
        (client) => client.end(),
        () => undefined,
      );
  }

  private forget(entry: PooledConnection): void {
    if (this.connections.get(entry.key) === entry) this.connections.delete(entry.key);
  }
}

/** `promise`, or `signal`'s reason when it aborts first; a value that arrives after that goes to `onLate`. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal, onLate?: (value: T) => void): Promise<T> {
  if (signal.aborted) {
    promise.then(
      (value) => onLate?.(value),
      () => undefined,
    );
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    let aborted = false;
    const onAbort = (): void => {
      aborted = true;
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (aborted) onLate?.(value);
        else resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}
