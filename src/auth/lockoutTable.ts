/** Bounds of brute-force protection (config `auth.lockout`). */
export interface LockoutPolicy {
  /** Failures within `windowMs` that lock a source (or make an identity "under attack"). */
  readonly threshold: number;
  /** Length of the counting window, from the first failure of the window. */
  readonly windowMs: number;
  /** First lockout; each further lockout of the same key doubles it. */
  readonly baseMs: number;
  /** Cap on one lockout; also how long a key's escalation is remembered after its lockout ends. */
  readonly maxMs: number;
  /** Cap on the number of keys tracked (memory bound). */
  readonly maxEntries: number;
}

/** What {@link LockoutTable.recordFailure} decided. */
export interface FailureOutcome {
  /** Failures of the source in its current window (0 right after a lockout started). */
  readonly sourceFailures: number;
  /** Duration of the lockout this failure started, or undefined when it started none. */
  readonly lockedForMs?: number;
  /** Why the source was locked: its own count, or a failure on an identity under attack. */
  readonly lockedBecause?: 'source' | 'identity';
  /** True when the identity's failures crossed the threshold with this failure. */
  readonly identityNowUnderAttack: boolean;
}

interface Entry {
  failures: number;
  windowStart: number;
  lockedUntil: number;
  /** Lockouts so far (the next one lasts `baseMs * 2^level`). */
  level: number;
}

/**
 * Counts authentication failures per source address and per identity
 * (design.md §4, docs/operations.md "Brute force") with an injectable clock.
 *
 * - A source with `threshold` failures within `windowMs` is locked for
 *   `min(maxMs, baseMs * 2^n)`, n being its earlier lockouts; while locked, every
 *   attempt is refused before its credential is looked at, and a success neither
 *   unlocks nor resets it.
 * - An identity (a JWT `sub` or certificate CN, never the credential) with
 *   `threshold` failures within `windowMs`, from any mix of sources, is "under
 *   attack" for the same growing time: any source that then fails on it is locked
 *   at once. The identity itself is never locked, so nobody can lock a person out
 *   by failing in their name; a correct credential keeps working.
 * - At most `maxEntries` keys are kept: expired keys are dropped first, then the
 *   least recently failed.
 */
export class LockoutTable {
  private readonly entries = new Map<string, Entry>();
  private recorded = 0;

  constructor(
    private readonly policy: LockoutPolicy,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Milliseconds `source` stays locked (0 when it is not locked). */
  lockedFor(source: string): number {
    const entry = this.entries.get(sourceKey(source));
    return entry ? Math.max(0, entry.lockedUntil - this.clock()) : 0;
  }

  /** Records a failed attempt from `source`, presenting `identity` when one is known. */
  recordFailure(source: string, identity?: string): FailureOutcome {
    const now = this.clock();
    if (++this.recorded % sweepEvery === 0) this.sweep();
    let identityUnderAttack = false;
    let identityNowUnderAttack = false;
    if (identity !== undefined) {
      const id = this.touch(identityKey(identity), now);
      identityUnderAttack = id.lockedUntil > now;
      if (!identityUnderAttack && this.count(id, now)) {
        identityNowUnderAttack = true;
        identityUnderAttack = true;
      }
    }
    const entry = this.touch(sourceKey(source), now);
    if (entry.lockedUntil > now) return { sourceFailures: entry.failures, identityNowUnderAttack };
    if (this.count(entry, now)) return { sourceFailures: 0, lockedForMs: entry.lockedUntil - now, lockedBecause: 'source', identityNowUnderAttack };
    if (identityUnderAttack) {
      this.lock(entry, now);
      return { sourceFailures: 0, lockedForMs: entry.lockedUntil - now, lockedBecause: 'identity', identityNowUnderAttack };
    }
    return { sourceFailures: entry.failures, identityNowUnderAttack };
  }

  /** Number of sources locked right now (for the `dbgrelay_auth_locked_sources` gauge). */
  lockedSources(): number {
    const now = this.clock();
    let locked = 0;
    for (const [key, entry] of this.entries) if (key.startsWith('s:') && entry.lockedUntil > now) locked++;
    return locked;
  }

  /** Number of keys (sources and identities) tracked. */
  get size(): number {
    return this.entries.size;
  }

  /** Drops every key whose window and escalation memory are over. */
  sweep(): void {
    const now = this.clock();
    for (const [key, entry] of this.entries) if (this.expired(entry, now)) this.entries.delete(key);
  }

  /** Adds one failure to `entry`'s window; locks it and returns true when the threshold is reached. */
  private count(entry: Entry, now: number): boolean {
    if (now - entry.windowStart >= this.policy.windowMs) {
      entry.failures = 0;
      entry.windowStart = now;
    }
    entry.failures++;
    if (entry.failures < this.policy.threshold) return false;
    this.lock(entry, now);
    return true;
  }

  private lock(entry: Entry, now: number): void {
    // 2^level overflows nothing: the cap is reached long before.
    const duration = Math.min(this.policy.maxMs, this.policy.baseMs * 2 ** Math.min(entry.level, 40));
    entry.lockedUntil = now + duration;
    entry.level++;
    entry.failures = 0;
    entry.windowStart = now;
  }

  private expired(entry: Entry, now: number): boolean {
    const lockMemory = entry.level > 0 ? entry.lockedUntil + this.policy.maxMs : 0;
    return now >= Math.max(entry.windowStart + this.policy.windowMs, lockMemory);
  }

  /** The live entry for `key` (a fresh one if absent or expired), moved to the most recent position. */
  private touch(key: string, now: number): Entry {
    let entry = this.entries.get(key);
    if (entry && this.expired(entry, now)) entry = undefined;
    this.entries.delete(key);
    if (!entry) {
      if (this.entries.size >= this.policy.maxEntries) this.sweep();
      while (this.entries.size >= this.policy.maxEntries) {
        const oldest = this.entries.keys().next().value as string;
        this.entries.delete(oldest);
      }
      entry = { failures: 0, windowStart: now, lockedUntil: 0, level: 0 };
    }
    this.entries.set(key, entry);
    return entry;
  }
}

/** Failures between two sweeps of expired keys (besides the sweep when the table is full). */
const sweepEvery = 256;

function sourceKey(source: string): string {
  return `s:${source}`;
}

function identityKey(identity: string): string {
  return `i:${identity}`;
}
