import { Counter, type Registry } from 'prom-client';

/** Outcomes of a configuration reload, the `outcome` label of `dbgrelay_config_reloads_total`. */
export const reloadOutcomes = ['applied', 'refused'] as const;

/** A value of {@link reloadOutcomes}. */
export type ReloadOutcome = (typeof reloadOutcomes)[number];

/** The bounds a refusal may name, the `limit` label of `dbgrelay_limit_refusals_total`. */
export const limitNames = ['maxAgents', 'maxAgentsPerPrincipal', 'maxSessionsPerPrincipal', 'maxSessionsPerTarget'] as const;

/** A value of {@link limitNames}. */
export type LimitName = (typeof limitNames)[number];

/** Metrics of reload, drain and the `limits.*` bounds (docs/operations.md "Metrics and health"). */
export class LifecycleMetrics {
  /** `dbgrelay_config_reloads_total{outcome}`: reloads applied (possibly with keys that need a restart) or refused. */
  readonly reloads: Counter<'outcome'>;
  /** `dbgrelay_limit_refusals_total{limit}`: agents and sessions refused with `LIMIT_REACHED`. */
  readonly limitRefusals: Counter<'limit'>;
  /** `dbgrelay_session_idle_timeouts_total`: sessions ended by `limits.sessionIdleTimeoutMs`. */
  readonly idleTimeouts: Counter;
  /** `dbgrelay_drain_refusals_total`: agents and sessions refused with `RELAY_DRAINING`. */
  readonly drainRefusals: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.reloads = new Counter({
      name: 'dbgrelay_config_reloads_total',
      help: 'Configuration reloads (SIGHUP, dbgrelay reload) by outcome: applied or refused (invalid configuration).',
      labelNames: ['outcome'] as const,
      registers,
    });
    for (const outcome of reloadOutcomes) this.reloads.inc({ outcome }, 0);
    this.limitRefusals = new Counter({
      name: 'dbgrelay_limit_refusals_total',
      help: 'Agent connections and client sessions refused because a limits.* bound was reached, by bound.',
      labelNames: ['limit'] as const,
      registers,
    });
    for (const limit of limitNames) this.limitRefusals.inc({ limit }, 0);
    this.idleTimeouts = new Counter({
      name: 'dbgrelay_session_idle_timeouts_total',
      help: 'Sessions ended because no DAP message crossed them for limits.sessionIdleTimeoutMs.',
      registers,
    });
    this.drainRefusals = new Counter({
      name: 'dbgrelay_drain_refusals_total',
      help: 'Agent connections and client sessions refused because the relay is draining.',
      registers,
    });
  }
}
