import { Counter, type Registry } from 'prom-client';

/** Session connections closed as half-open, by carrier (docs/operations.md "Metrics"). */
export class HeartbeatMetrics {
  /** `dbgrelay_session_heartbeat_misses_total{via}`: wss (no pong) or tcps (no heartbeat) connections closed as half-open. */
  readonly misses: Counter<'via'>;

  constructor(registry: Registry) {
    this.misses = new Counter({
      name: 'dbgrelay_session_heartbeat_misses_total',
      help: 'Session and agent data connections closed because nothing, not even a heartbeat, arrived before the deadline.',
      labelNames: ['via'],
      registers: [registry],
    });
    for (const via of ['wss', 'tcps']) this.misses.labels(via).inc(0);
  }
}
