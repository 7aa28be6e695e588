import { Counter, Gauge, type Registry } from 'prom-client';

/** The caps on unauthenticated wss/tcps connections, the `cap` label of `dbgrelay_unauthenticated_refusals_total`. */
export const preAuthCaps = ['maxUnauthenticatedConnections', 'maxUnauthenticatedPerSource'] as const;

/** A value of {@link preAuthCaps}. */
export type PreAuthCap = (typeof preAuthCaps)[number];

/** Metrics of the caps before authentication on the wss and tcps listeners (docs/operations.md "Caps before authentication"). */
export class PreAuthMetrics {
  /** `dbgrelay_unauthenticated_refusals_total{cap}`: connections destroyed at accept because a cap was reached. */
  readonly refusals: Counter<'cap'>;

  /** `current` is asked for the number of unauthenticated connections at each scrape. */
  constructor(registry: Registry, current: () => number) {
    const registers = [registry];
    this.refusals = new Counter({
      name: 'dbgrelay_unauthenticated_refusals_total',
      help: 'wss/tcps connections destroyed at accept (before TLS) because an unauthenticated-connection cap was reached, by cap.',
      labelNames: ['cap'] as const,
      registers,
    });
    for (const cap of preAuthCaps) this.refusals.inc({ cap }, 0);
    new Gauge({
      name: 'dbgrelay_unauthenticated_connections',
      help: 'wss/tcps connections accepted and not yet authenticated (TLS handshake, hello line or upgrade).',
      registers,
      collect() {
        this.set(current());
      },
    });
  }
}
