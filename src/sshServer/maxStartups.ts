/** `sshServer.maxStartups`: random early drop of unauthenticated connections, as OpenSSH's `MaxStartups start:rate:full`. */
export interface MaxStartups {
  /** Below this many unauthenticated connections every new one is accepted. */
  readonly start: number;
  /** Percentage of new connections dropped at `start`; it rises linearly to 100 at `full`. */
  readonly rate: number;
  /** At this many unauthenticated connections every new one is dropped. */
  readonly full: number;
}

/** Why a new connection is dropped before authentication. */
export type StartupDrop = 'full' | 'earlyDrop';

/**
 * Decides whether a new connection is dropped while `unauthenticated` connections
 * are already waiting to authenticate: never below `start`, always from `full` on,
 * and in between with probability rising linearly from `rate`% at `start` to 100% at
 * `full` (`random` returns a number in [0, 1), injected so that tests are exact).
 * Returns undefined when the connection is accepted.
 */
export function startupDrop(unauthenticated: number, bounds: MaxStartups, random: () => number): StartupDrop | undefined {
  if (unauthenticated < bounds.start) return undefined;
  if (unauthenticated >= bounds.full) return 'full';
  const rate = bounds.rate / 100;
  const probability = rate + ((1 - rate) * (unauthenticated - bounds.start)) / (bounds.full - bounds.start);
  return random() < probability ? 'earlyDrop' : undefined;
}
