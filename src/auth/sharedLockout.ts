import type { LockoutPolicy } from './lockoutTable.js';

/**
 * Failure counts shared by every instance of a relay (docs/operations.md "Running
 * several relays"), so that spreading guesses over instances does not help: a source
 * that fails `threshold` times within the window, on any mix of instances, is locked
 * on all of them for a time that doubles with each lockout. Each instance also keeps
 * its own {@link LockoutTable}; a source is refused when either locks it. Both methods
 * reject when the shared store cannot be reached; the caller then relies on its own table.
 */
export interface SharedLockout {
  /** Milliseconds `source` stays locked on every instance (0 when it is not). */
  lockedFor(source: string): Promise<number>;
  /** Counts a failure of `source`; resolves with the lockout it started (ms), or 0. */
  recordFailure(source: string, policy: LockoutPolicy): Promise<number>;
}
