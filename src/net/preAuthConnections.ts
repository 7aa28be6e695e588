import type { PreAuthCap } from '../metrics/preAuthMetrics.js';

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

  constructor(readonly caps: PreAuthCaps) {}

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
