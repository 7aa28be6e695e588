import { isIP, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import { sourceOf } from '../auth/sourceAddress.js';
import type { RelayConfig } from '../config/configSchema.js';
import { trustedProxyList } from '../config/frontEndConfigSchema.js';
import { PreAuthMetrics, type PreAuthCap } from '../metrics/preAuthMetrics.js';

/** The caps on connections that have not authenticated yet (config `limits.*`). */
export interface PreAuthCaps {
  /** Unauthenticated connections at once, all listeners and sources together. */
  readonly maxUnauthenticatedConnections: number;
  /** Unauthenticated connections at once from one source (IPv4 address, IPv6 /64). */
  readonly maxUnauthenticatedPerSource: number;
}

/** One admitted unauthenticated connection: release it once (more calls do nothing). */
export interface PreAuthTicket {
  release(): void;
}

/**
 * Counts the connections that have not authenticated yet, in total and per source,
 * and refuses one past `caps` (docs/operations.md "Caps before authentication"). A
 * connection counts from accept until it authenticated or closed.
 */
export class PreAuthConnections {
  private total = 0;
  private readonly bySource = new Map<string, number>();

  constructor(private readonly caps: PreAuthCaps) {}

  /** Unauthenticated connections now. */
  get count(): number {
    return this.total;
  }

  /** Unauthenticated connections from `source` now. */
  countOf(source: string): number {
    return this.bySource.get(source) ?? 0;
  }

  /**
   * Admits a connection from `source`, or names the cap that refuses it. A
   * `perSourceExempt` source (a trusted front end, which carries many clients) is
   * held to the global cap only.
   */
  admit(source: string, perSourceExempt = false): PreAuthTicket | PreAuthCap {
    if (this.total >= this.caps.maxUnauthenticatedConnections) return 'maxUnauthenticatedConnections';
    const held = this.countOf(source);
    if (held >= this.caps.maxUnauthenticatedPerSource && !perSourceExempt) return 'maxUnauthenticatedPerSource';
    this.total += 1;
    this.bySource.set(source, held + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.total -= 1;
        const left = this.countOf(source) - 1;
        if (left > 0) this.bySource.set(source, left);
        else this.bySource.delete(source);
      },
    };
  }
}

/** Key of a TCP connection: the same for its raw socket and its TLS socket, distinct across listeners. */
function connectionKey(socket: Partial<Socket>): string {
  return `${socket.localPort ?? '?'}|${socket.remoteAddress ?? '?'}|${socket.remotePort ?? '?'}`;
}

/**
 * The caps before authentication applied to the relay's listeners: {@link guard} makes
 * a server admit each accepted TCP connection before anything else (before TLS) or
 * destroy it at once, reported to `onRefused`; {@link authenticated} stops counting a
 * connection (given its raw or TLS socket) once it has authenticated.
 */
export class PreAuthGate {
  private readonly tickets = new Map<string, PreAuthTicket>();

  /** `trusted` says whether a peer address is a trusted front end (per-source cap exempt). */
  constructor(
    readonly connections: PreAuthConnections,
    private readonly onRefused: (cap: PreAuthCap) => void = () => undefined,
    private readonly trusted: (address: string) => boolean = () => false,
  ) {}

  /** Applies the caps to every connection `server` accepts from now on. */
  guard(server: Server): void {
    server.prependListener('connection', (socket: Socket) => {
      const address = socket.remoteAddress ?? '';
      const admitted = this.connections.admit(sourceOf(address), address !== '' && this.trusted(address));
      if (typeof admitted === 'string') {
        this.onRefused(admitted);
        socket.destroy();
        return;
      }
      const key = connectionKey(socket);
      this.tickets.set(key, admitted);
      socket.once('close', () => {
        admitted.release();
        if (this.tickets.get(key) === admitted) this.tickets.delete(key);
      });
    });
  }

  /** The connection of `socket` has authenticated: it no longer counts. */
  authenticated(socket: Duplex): void {
    const key = connectionKey(socket as Partial<Socket>);
    this.tickets.get(key)?.release();
    this.tickets.delete(key);
  }
}

/**
 * The relay's gate from its configuration: `limits.maxUnauthenticated*`, counted in
 * {@link PreAuthMetrics} in `registry`, with `frontEnd.trustedProxies` exempt from the
 * per-source cap.
 */
export function preAuthGateFor(config: RelayConfig, registry: Registry): PreAuthGate {
  const { maxUnauthenticatedConnections, maxUnauthenticatedPerSource } = config.limits;
  const connections = new PreAuthConnections({ maxUnauthenticatedConnections, maxUnauthenticatedPerSource });
  const metrics = new PreAuthMetrics(registry, () => connections.count);
  const proxies = trustedProxyList(config.frontEnd.trustedProxies);
  const trusted = (address: string): boolean => {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const plain = mapped ? mapped[1]! : address;
    const version = isIP(plain);
    return version !== 0 && proxies.check(plain, version === 6 ? 'ipv6' : 'ipv4');
  };
  return new PreAuthGate(connections, (cap) => metrics.refusals.inc({ cap }), trusted);
}
