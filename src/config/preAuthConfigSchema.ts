import { intBetween } from './schemaFields.js';

/**
 * The `limits.*` caps on wss/tcps connections that have not authenticated yet
 * (docs/operations.md "Caps before authentication"): a connection counts from accept
 * until it authenticated or closed; past a cap it is destroyed at accept, before TLS.
 * Merged into the `limits` mapping of the config schema; they need a restart.
 */
export const preAuthLimitsShape = {
  /** Unauthenticated connections at once, both listeners and all sources together. */
  maxUnauthenticatedConnections: intBetween(16, 1_000_000),
  /** Unauthenticated connections at once from one IPv4 address or IPv6 /64 (`frontEnd.trustedProxies`: global cap only). */
  maxUnauthenticatedPerSource: intBetween(1, 1_000_000),
  /**
   * Accepted connections that wait, before TLS, for an unauthenticated slot when
   * `maxUnauthenticatedConnections` are in their handshakes (each at most
   * `handshakeTimeoutMs`); more are destroyed at accept. 0: none wait.
   */
  maxWaitingConnections: intBetween(0, 1_000_000),
};

/**
 * Defaults of {@link preAuthLimitsShape}. An idle pre-TLS connection costs the relay
 * about 15 KB (docs/operations.md), so 2000 of them stay near 30 MB, far below the
 * 1 GiB of the shipped Kubernetes manifest; 32 per source is far above what one
 * host's agents and clients hold in their handshakes at once. A waiting connection is
 * an accepted socket not yet read, with no TLS state (a few KB), and waits at most
 * `handshakeTimeoutMs`; 10,000 of them let a fleet of that size come back after a
 * restart as fast as the relay completes handshakes, instead of being reset into
 * their backoff.
 */
export const preAuthLimitsDefaults = {
  maxUnauthenticatedConnections: 2000,
  maxUnauthenticatedPerSource: 32,
  maxWaitingConnections: 10_000,
} as const;
