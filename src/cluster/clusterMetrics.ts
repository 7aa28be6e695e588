import { Counter, Gauge, type Registry } from 'prom-client';

/** Metrics of an instance among several (docs/operations.md "Running several relays"). */
export class ClusterMetrics {
  /** `dbgrelay_cluster_store_up`: 1 while the shared store answers. */
  readonly storeUp: Gauge;
  /** `dbgrelay_cluster_held_targets`: targets this instance holds a current claim on, counted when scraped. */
  readonly heldTargets: Gauge;
  private heldSource: () => number = () => 0;
  /** `dbgrelay_cluster_claims_lost_total`: claims another instance took (this instance then dropped its stale agent connection). */
  readonly claimsLost: Counter;
  /** `dbgrelay_cluster_forwarded_sessions_total{outcome}`: sessions this instance forwarded to the holder (`ok` or the code). */
  readonly forwardedOut: Counter<'outcome'>;
  /** `dbgrelay_cluster_received_sessions_total{outcome}`: sessions other instances forwarded here. */
  readonly forwardedIn: Counter<'outcome'>;

  constructor(registry: Registry) {
    this.storeUp = new Gauge({ name: 'dbgrelay_cluster_store_up', help: 'Whether the shared store of the relay instances answers (1) or not (0).', registers: [registry] });
    const held = (): number => this.heldSource();
    this.heldTargets = new Gauge({
      name: 'dbgrelay_cluster_held_targets',
      help: 'Targets whose current claim in the shared store this instance holds.',
      registers: [registry],
      collect() {
        this.set(held());
      },
    });
    this.claimsLost = new Counter({
      name: 'dbgrelay_cluster_claims_lost_total',
      help: 'Claims on targets another instance took; the stale agent connection here was closed.',
      registers: [registry],
    });
    this.forwardedOut = new Counter({
      name: 'dbgrelay_cluster_forwarded_sessions_total',
      help: 'Sessions this instance forwarded to the instance holding their target, by outcome (ok or the refusal code).',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.forwardedIn = new Counter({
      name: 'dbgrelay_cluster_received_sessions_total',
      help: 'Sessions other instances forwarded to this one, by outcome (ok or the refusal code).',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.forwardedOut.labels('ok').inc(0);
    this.forwardedIn.labels('ok').inc(0);
  }

  /** Reads the held claims from `count` at each scrape (the directory's own table). */
  observeHeld(count: () => number): void {
    this.heldSource = count;
  }
}
