import { z } from 'zod';
import { intBetween } from './schemaFields.js';

/** Bound on every timeout key: one day. */
const maxTimeoutMs = 86_400_000;

/**
 * The `limits.*` keys of the relay's lifecycle (docs/operations.md "Limits"): how many
 * agents, sessions per principal and per target the relay serves at once, and how long
 * a session may stay silent. Merged into the `limits` mapping of the config schema.
 * All of them take effect on reload, for new connections and sessions.
 */
export const lifecycleLimitsShape = {
  /** Agent control connections (registered or registering) at once; more are refused with `LIMIT_REACHED`. */
  maxAgents: intBetween(1, 1_000_000),
  /**
   * Agent control connections of one principal at once, so that one agent credential
   * cannot take every `maxAgents` slot. The relay secret alone (principal
   * `relay-secret`) is exempt: every agent of the simple setup shares it, so only
   * `maxAgents` bounds it; with a client certificate the certificate's identity counts.
   */
  maxAgentsPerPrincipal: intBetween(1, 1_000_000),
  /**
   * Client sessions (subprocess sessions included) of one principal at once. The relay
   * secret (principal `relay-secret`), which everyone shares in the simple setup, is
   * exempt: `maxSessionsPerTarget` and the number of targets bound it.
   */
  maxSessionsPerPrincipal: intBetween(1, 100_000),
  /** Client sessions (subprocess sessions included) of one target at once. */
  maxSessionsPerTarget: intBetween(1, 100_000),
  /** A session with no DAP message either way for this long is ended (`0`: off). */
  sessionIdleTimeoutMs: intBetween(0, 7 * maxTimeoutMs),
};

/**
 * Defaults of {@link lifecycleLimitsShape}: generous, so that only runaway use meets
 * them. `maxAgents` is twice the fleet one relay was measured to hold on two cores
 * (10,000 agents, BENCHMARKS.md "Fleet size"): an agent refused for it retries for as
 * long as its program runs, so a bound below the fleet costs CPU on both sides.
 */
export const lifecycleLimitsDefaults = {
  maxAgents: 20_000,
  maxAgentsPerPrincipal: 100,
  maxSessionsPerPrincipal: 32,
  maxSessionsPerTarget: 16,
  sessionIdleTimeoutMs: 0,
} as const;

/** `lifecycle.*`: reload and graceful shutdown (docs/operations.md "Drain and shutdown"). */
export const lifecycleConfigSchema = z.strictObject(
  {
    /**
     * How long `SIGTERM` lets running sessions go on before the relay detaches them and
     * exits; the process exits within this bound (the detach itself is taken out of it).
     */
    drainGraceMs: intBetween(0, maxTimeoutMs),
    /**
     * The `retryAfterMs` of the `goaway` a drain sends every agent (docs/protocol.md
     * §5): the least time it waits before it dials again. At most one hour, the
     * protocol's bound on the field.
     */
    goawayRetryAfterMs: intBetween(0, 3_600_000),
  },
  { error: 'expected a mapping' },
);

/**
 * Defaults of `lifecycle.*`: a grace period below systemd's `TimeoutStopSec=30s` in
 * deploy/systemd; agents that stay away 2 s (plus their jitter) land on another
 * instance or the restarted relay rather than on the draining one.
 */
export function lifecycleConfigDefaults(): { lifecycle: { drainGraceMs: number; goawayRetryAfterMs: number } } {
  return { lifecycle: { drainGraceMs: 25_000, goawayRetryAfterMs: 2_000 } };
}
