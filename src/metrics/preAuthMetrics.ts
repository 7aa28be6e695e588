import { Counter, Gauge, type Registry } from 'prom-client';

/** The caps on unauthenticated wss/tcps connections. */
export const preAuthCaps = ['maxUnauthenticatedConnections', 'maxUnauthenticatedPerSource'] as const;

/** A value of {@link preAuthCaps}. */
export type PreAuthCap = (typeof preAuthCaps)[number];

/**
 * Why a connection was destroyed before TLS, the `cap` label of
 * `dbgrelay_unauthenticated_refusals_total`: a cap, the bound on connections waiting
 * for a slot (`maxWaitingConnections`), or a wait past the handshake timeout.
 */
export const preAuthRefusals = [...preAuthCaps, 'maxWaitingConnections', 'waitTimeout'] as const;

/** A value of {@link preAuthRefusals}. */
export type PreAuthRefusal = (typeof preAuthRefusals)[number];

/** Metrics of the caps before authentication on the wss and tcps listeners (docs/operations.md "Caps before authentication"). */
export class PreAuthMetrics {
  /** `dbgrelay_unauthenticated_refusals_total{cap}`: connections destroyed at accept because a cap was reached. */
  readonly refusals: Counter<'cap'>;

  /** `current` and `waiting` are asked for the numbers of unauthenticated and of waiting connections at each scrape. */
  constructor(registry: Registry, current: () => number, waiting: () => number = () => 0) {
    const registers = [registry];
    this.refusals = new Counter({
      name: 'dbgrelay_unauthenticated_refusals_total',
      help: 'wss/tcps connections destroyed before TLS because an unauthenticated-connection cap was reached, too many waited, or one waited past the handshake timeout, by cap.',
      labelNames: ['cap'] as const,
      registers,
    });
    for (const cap of preAuthRefusals) this.refusals.inc({ cap }, 0);
    new Gauge({
      name: 'dbgrelay_unauthenticated_connections',
      help: 'wss/tcps connections accepted and not yet authenticated (TLS handshake, hello line or upgrade).',
      registers,
      collect() {
        this.set(current());
      },
    });
    new Gauge({
      name: 'dbgrelay_unauthenticated_waiting_connections',
      help: 'wss/tcps connections accepted and waiting, before TLS, for an unauthenticated slot (limits.maxWaitingConnections).',
      registers,
      collect() {
        this.set(waiting());
      },
    });
  }
}
