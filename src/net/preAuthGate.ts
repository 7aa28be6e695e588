import { isIP, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import { sourceOf } from '../auth/sourceAddress.js';
import type { RelayConfig } from '../config/configSchema.js';
import { trustedProxyList } from '../config/frontEndConfigSchema.js';
import { PreAuthMetrics, type PreAuthRefusal } from '../metrics/preAuthMetrics.js';
import { PreAuthConnections, type PreAuthTicket } from './preAuthConnections.js';

/** Key of a TCP connection: the same for its raw socket and its TLS socket, distinct across listeners. */
function connectionKey(socket: Partial<Socket>): string {
  return `${socket.localPort ?? '?'}|${socket.remoteAddress ?? '?'}|${socket.remotePort ?? '?'}`;
}

/** How long and how many accepted connections may wait for an unauthenticated slot. */
export interface WaitingBounds {
  /** Connections waiting at once (`limits.maxWaitingConnections`); 0: none wait, a connection over the cap is destroyed. */
  readonly maxWaiting: number;
  /** A connection that waited this long is destroyed (`limits.handshakeTimeoutMs`: its peer gives up about then). */
  readonly maxWaitMs: number;
}

/** A waiting connection's error (a reset) needs no handling: it is destroyed or admitted later. */
const ignoreWhileWaiting = (): void => undefined;

/** An accepted TCP connection waiting, before TLS, for an unauthenticated slot. */
interface Waiting {
  readonly socket: Socket;
  /** The listener it arrived on: once that stops listening (the relay closes), it is destroyed. */
  readonly server: Server;
  readonly source: string;
  readonly exempt: boolean;
  readonly since: number;
  readonly start: (socket: Socket) => void;
}

/**
 * The caps before authentication applied to the relay's listeners (docs/operations.md
 * "Caps before authentication"). {@link guard} makes a server admit each accepted TCP
 * connection before anything else (before TLS). Over the per-source cap it is
 * destroyed at once. Over the global cap it waits, paused and before TLS, in arrival
 * order, until an unauthenticated connection authenticates or closes, at most
 * `bounds.maxWaitMs` and at most `bounds.maxWaiting` of them: so a storm of agents
 * (a restart of the relay) is admitted as fast as the relay completes handshakes,
 * with no reset that sends the agents into their backoff and no handshake begun that
 * could not finish in time. {@link authenticated} stops counting a connection (given
 * its raw or TLS socket) once it has authenticated.
 */
export class PreAuthGate {
  private readonly tickets = new Map<string, PreAuthTicket>();
  private readonly waiting: Waiting[] = [];
  private waitingHead = 0;
  /** Waiting connections by source, held to the per-source cap together with the admitted ones. */
  private readonly waitingBySource = new Map<string, number>();
  private expiry: NodeJS.Timeout | undefined;

  /** `trusted` says whether a peer address is a trusted front end (per-source cap exempt). */
  constructor(
    readonly connections: PreAuthConnections,
    private readonly onRefused: (refusal: PreAuthRefusal) => void = () => undefined,
    private readonly trusted: (address: string) => boolean = () => false,
    private readonly bounds: WaitingBounds = { maxWaiting: 0, maxWaitMs: 0 },
  ) {}

  /** Connections waiting for a slot now. */
  get waitingCount(): number {
    return this.waiting.length - this.waitingHead;
  }

  /** Applies the caps to every connection `server` accepts from now on (call it once, after the server is built). */
  guard(server: Server): void {
    // The server's own handlers (TLS) run only once the connection is admitted.
    const handlers = server.listeners('connection') as Array<(socket: Socket) => void>;
    server.removeAllListeners('connection');
    const start = (socket: Socket): void => {
      for (const handler of handlers) handler.call(server, socket);
    };
    server.on('connection', (socket: Socket) => this.arrive(socket, server, start));
  }

  /** The connection of `socket` has authenticated: it no longer counts. */
  authenticated(socket: Duplex): void {
    const key = connectionKey(socket as Partial<Socket>);
    const ticket = this.tickets.get(key);
    this.tickets.delete(key);
    if (ticket) this.release(ticket);
  }

  private arrive(socket: Socket, server: Server, start: (socket: Socket) => void): void {
    const address = socket.remoteAddress ?? '';
    const source = sourceOf(address);
    const exempt = address !== '' && this.trusted(address);
    if (this.waitingCount > 0 || this.connections.count >= this.connections.caps.maxUnauthenticatedConnections) {
      // Behind those already waiting, in arrival order.
      this.wait({ socket, server, source, exempt, since: Date.now(), start });
      this.admitWaiting();
      return;
    }
    this.admit({ socket, server, source, exempt, since: Date.now(), start });
  }

  private admit(arrival: Waiting): void {
    const { socket, source, exempt, start } = arrival;
    const admitted = this.connections.admit(source, exempt);
    if (typeof admitted === 'string') {
      this.onRefused(admitted);
      socket.destroy();
      return;
    }
    const key = connectionKey(socket);
    this.tickets.set(key, admitted);
    socket.once('close', () => {
      if (this.tickets.get(key) === admitted) this.tickets.delete(key);
      this.release(admitted);
    });
    start(socket);
  }

  private wait(arrival: Waiting): void {
    const held = this.connections.countOf(arrival.source) + (this.waitingBySource.get(arrival.source) ?? 0);
    const refusal: PreAuthRefusal | undefined =
      held >= this.connections.caps.maxUnauthenticatedPerSource && !arrival.exempt
        ? 'maxUnauthenticatedPerSource'
        : this.waitingCount >= this.bounds.maxWaiting
          ? this.bounds.maxWaiting === 0
            ? 'maxUnauthenticatedConnections'
            : 'maxWaitingConnections'
          : undefined;
    if (refusal) {
      this.onRefused(refusal);
      arrival.socket.destroy();
      return;
    }
    arrival.socket.pause(); // nothing is read before TLS takes the socket over
    arrival.socket.on('error', ignoreWhileWaiting);
    this.waiting.push(arrival);
    this.waitingBySource.set(arrival.source, (this.waitingBySource.get(arrival.source) ?? 0) + 1);
    this.expiry ??= setInterval(() => this.admitWaiting(), Math.min(1_000, this.bounds.maxWaitMs)).unref();
  }

  private release(ticket: PreAuthTicket): void {
    ticket.release();
    if (this.waitingCount > 0) this.admitWaiting();
  }

  /** Admits waiting connections in arrival order while slots are free; destroys those gone, waiting too long, or whose listener closed. */
  private admitWaiting(): void {
    const now = Date.now();
    while (this.waitingCount > 0) {
      const next = this.waiting[this.waitingHead]!;
      const expired = now - next.since >= this.bounds.maxWaitMs;
      const closing = !next.server.listening;
      if (!expired && !closing && !next.socket.destroyed && this.connections.count >= this.connections.caps.maxUnauthenticatedConnections) break;
      this.waitingHead += 1;
      const left = (this.waitingBySource.get(next.source) ?? 1) - 1;
      if (left > 0) this.waitingBySource.set(next.source, left);
      else this.waitingBySource.delete(next.source);
      next.socket.off('error', ignoreWhileWaiting);
      if (next.socket.destroyed) continue;
      if (closing) {
        next.socket.destroy(); // the relay is closing: the listener will never serve it
        continue;
      }
      if (expired) {
        this.onRefused('waitTimeout');
        next.socket.destroy();
        continue;
      }
      this.admit(next);
    }
    if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
      this.waiting.splice(0, this.waitingHead);
      this.waitingHead = 0;
    }
    if (this.waitingCount === 0 && this.expiry) {
      clearInterval(this.expiry);
      this.expiry = undefined;
    }
  }
}

/**
 * The relay's gate from its configuration: `limits.maxUnauthenticated*` and
 * `limits.maxWaitingConnections` (waiting at most `limits.handshakeTimeoutMs`),
 * counted in {@link PreAuthMetrics} in `registry`, with `frontEnd.trustedProxies`
 * exempt from the per-source cap.
 */
export function preAuthGateFor(config: RelayConfig, registry: Registry): PreAuthGate {
  const { maxUnauthenticatedConnections, maxUnauthenticatedPerSource, maxWaitingConnections, handshakeTimeoutMs } = config.limits;
  const connections = new PreAuthConnections({ maxUnauthenticatedConnections, maxUnauthenticatedPerSource });
  const proxies = trustedProxyList(config.frontEnd.trustedProxies);
  const trusted = (address: string): boolean => {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const plain = mapped ? mapped[1]! : address;
    const version = isIP(plain);
    return version !== 0 && proxies.check(plain, version === 6 ? 'ipv6' : 'ipv4');
  };
  let gate: PreAuthGate | undefined;
  const metrics = new PreAuthMetrics(
    registry,
    () => connections.count,
    () => gate?.waitingCount ?? 0,
  );
  gate = new PreAuthGate(connections, (refusal) => metrics.refusals.inc({ cap: refusal }), trusted, { maxWaiting: maxWaitingConnections, maxWaitMs: handshakeTimeoutMs });
  return gate;
}
