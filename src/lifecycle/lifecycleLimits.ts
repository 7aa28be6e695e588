import { RelayError } from '../common/relayError.js';
import type { LimitName } from '../metrics/lifecycleMetrics.js';

/** The `limits.*` bounds the relay enforces at run time (replaced on reload). */
export interface LifecycleLimitValues {
  readonly maxAgents: number;
  readonly maxAgentsPerPrincipal: number;
  readonly maxSessionsPerPrincipal: number;
  readonly maxSessionsPerTarget: number;
  readonly sessionIdleTimeoutMs: number;
}

/**
 * The current `limits.*` bounds and the relay's draining state, shared by the agent
 * hub and the session broker. A reload replaces {@link values}; {@link drain} is one-way.
 */
export class LifecycleState {
  private draining = false;

  constructor(
    public values: LifecycleLimitValues,
    private readonly onRefused?: (limit: LimitName | 'draining') => void,
  ) {}

  /** True once the relay drains: new agents and sessions are refused. */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Starts draining (never ends: a drained relay exits). */
  drain(): void {
    this.draining = true;
  }

  /** Throws `RELAY_DRAINING` while draining. */
  refuseWhileDraining(what: string): void {
    if (!this.draining) return;
    this.onRefused?.('draining');
    throw new RelayError('RELAY_DRAINING', `the relay is shutting down and accepts no new ${what}; try again (another instance)`);
  }

  /** Throws `LIMIT_REACHED` when `current` is already at the bound `limit`. */
  requireBelow(limit: LimitName, current: number, what: string): void {
    const bound = this.values[limit];
    if (current < bound) return;
    this.onRefused?.(limit);
    throw new RelayError('LIMIT_REACHED', `${what}: at most ${bound} (limits.${limit})`);
  }
}
