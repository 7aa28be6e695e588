import { RecencyMap } from './recencyMap.js';
import { networkOf } from './sourceNetwork.js';

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
  /**
   * Failures of the source in its current window (0 right after a lockout started);
   * for a source a full table could not take, those of its network.
   */
  readonly sourceFailures: number;
  /** Duration of the lockout this failure started, or undefined when it started none. */
  readonly lockedForMs?: number;
  /**
   * Why the source was locked: its own count, a failure on an identity under attack,
   * (`network`) the count of its network, kept when a full table could not take
   * the source, or (`overflow`) the shared count of the sources whose network a full
   * network table could not take either (see {@link LockoutTable}).
   */
  readonly lockedBecause?: 'source' | 'identity' | 'network' | 'overflow';
  /** True when the identity's failures crossed the threshold with this failure. */
  readonly identityNowUnderAttack: boolean;
  /** Present when the table, full of locked keys, had no room for this source. */
  readonly tableFull?: true;
}

/** Where a full table counts the failures of the keys it cannot take (see {@link LockoutTable}). */
export interface OverflowTier {
  /** The coarser key (a network, a bucket) a failure of an untracked key is counted under. */
  readonly keyOf: (key: string) => string;
  /** Coarser keys tracked at most. */
  readonly maxEntries: number;
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
 * (docs/operations.md "Brute force") with an injectable clock.
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
 * - At most `maxEntries` keys are kept. A locked key (a locked source, an identity
 *   under attack) is never evicted to make room: only unlocked keys are, expired ones
 *   first, then the least recently failed (an unlocked key's escalation memory may go
 *   with it). Locked and unlocked keys live apart, the unlocked ones in a
 *   {@link RecencyMap}, so that finding the key to evict takes O(1), not a scan.
 * - When every slot holds a locked key, a failure from a source the table does not
 *   track is counted for the source's network ({@link networkOf}: IPv4 /24, IPv6
 *   /48) in a second, smaller table (a tenth of `maxEntries`, at least 16 networks)
 *   with the same threshold and times; a locked network refuses its untracked
 *   sources. Nobody else is refused before their credential is checked: an attacker
 *   who fills the table locks out only networks he fails from, not the relay. A
 *   failure on an identity under attack locks such a source no faster (it has no
 *   slot of its own). The outcome says `tableFull` (metric
 *   `dbgrelay_auth_lockout_table_full_total`). Other tiers may be given
 *   ({@link OverflowTier}), each counting in a table of its own what the one before
 *   could not take.
 * - Last resort, so that a full table never lets guesses through uncounted: when the
 *   last tier (or, without tiers, the table itself) is full of locked keys too, the
 *   failure is counted in one entry shared by every key that no table could take,
 *   with the same threshold and growing times (`overflow`). While it is locked, such
 *   keys, and only they, are refused: a tracked key, or one whose network is
 *   tracked, is judged by its own count, and once a table has room again its new
 *   keys are tracked as usual. Filling both tables takes an attacker about
 *   `threshold × (maxEntries + networks)` failures in each lockout time, and what
 *   he then locks out is the sources of networks he has not failed from, for one
 *   lockout time at a time.
 */
export class LockoutTable {
  /** Keys locked now, and keys whose lockout ended but that were not looked at since. Never evicted. */
  private readonly locked = new Map<string, Entry>();
  /** Every other key, least recently failed first: eviction takes the first. */
  private readonly unlocked = new RecencyMap<Entry>();
  /** Failures of the keys a full table could not take, by coarser key (undefined: the last tier). */
  private readonly overflow: { readonly keyOf: (key: string) => string; readonly table: LockoutTable } | undefined;
  /** The last resort: failures of the keys no tier could take, shared (undefined: none live). */
  private shared: Entry | undefined;
  /** When the locked keys may next be scanned for ended lockouts to make room. */
  private nextLockedSweep = 0;

  /**
   * @param tiers - where the failures of keys a full table cannot take are counted, in
   *   order; by default the source's network (IPv4 /24, IPv6 /48) in a table of a tenth
   *   of `maxEntries` (at least 16). Empty: straight to the shared last-resort entry.
   */
  constructor(
    private readonly policy: LockoutPolicy,
    private readonly clock: () => number = Date.now,
    tiers: readonly OverflowTier[] = [{ keyOf: networkOf, maxEntries: Math.max(minNetworkEntries, Math.ceil(policy.maxEntries / 10)) }],
  ) {
    const [tier, ...rest] = tiers;
    this.overflow = tier && { keyOf: tier.keyOf, table: new LockoutTable({ ...policy, maxEntries: tier.maxEntries }, clock, rest) };
  }

  /**
   * Milliseconds `source` stays locked (0 when it is not locked). A source the table
   * does not track is locked only while its network is, or while the shared last
   * resort is and no table could take it (see the class comment).
   */
  lockedFor(source: string): number {
    return this.lockedAt(source, this.clock(), true);
  }

  /** Records a failed attempt from `source`, presenting `identity` when one is known. */
  recordFailure(source: string, identity?: string): FailureOutcome {
    const now = this.clock();
    this.dropExpiredUnlocked(now);
    const key = sourceKey(source);
    // Taken out first, so that room made for the identity never evicts this source.
    const entry = this.take(key, now);
    const promised = entry ? 1 : 0;
    const { underAttack, nowUnderAttack } = identity === undefined ? noAttack : this.countIdentity(identityKey(identity), now, promised);
    if (!entry && !this.makeRoom(now)) return this.untrackedFailure(source, nowUnderAttack, now);
    const counted = entry ?? freshEntry(now);
    const outcome = this.decide(counted, now, underAttack, nowUnderAttack);
    this.store(key, counted, now);
    return outcome;
  }

  /** Number of sources, networks and the shared last resort locked right now (for the `dbgrelay_auth_locked_sources` gauge). */
  lockedSources(): number {
    const now = this.clock();
    let locked = (this.overflow?.table.lockedSources() ?? 0) + (this.shared && this.shared.lockedUntil > now ? 1 : 0);
    for (const [key, entry] of this.locked) if (key.startsWith('s:') && entry.lockedUntil > now) locked++;
    return locked;
  }

  /** Number of keys (sources and identities) tracked, networks not included. */
  get size(): number {
    return this.locked.size + this.unlocked.size;
  }

  /** Drops every key whose window and escalation memory are over. */
  sweep(): void {
    const now = this.clock();
    this.sweepLocked(now);
    for (const [key, entry] of this.unlocked.entries()) if (this.expired(entry, now)) this.unlocked.delete(key);
    if (this.shared && this.expired(this.shared, now)) this.shared = undefined;
    this.overflow?.table.sweep();
  }

  /** `lockedFor` at `now`; `outerFull`: every table before this one was full of locked keys. */
  private lockedAt(key: string, now: number, outerFull: boolean): number {
    const entry = this.find(sourceKey(key), now);
    if (entry) return Math.max(0, entry.lockedUntil - now);
    if (this.overflow) return this.overflow.table.lockedAt(this.overflow.keyOf(key), now, outerFull && !this.canTake(now));
    const shared = this.shared;
    if (!outerFull || !shared || shared.lockedUntil <= now || this.canTake(now)) return 0;
    return shared.lockedUntil - now;
  }

  private decide(entry: Entry, now: number, identityUnderAttack: boolean, identityNowUnderAttack: boolean): FailureOutcome {
    if (entry.lockedUntil > now) return { sourceFailures: entry.failures, identityNowUnderAttack };
    if (this.count(entry, now)) return { sourceFailures: 0, lockedForMs: entry.lockedUntil - now, lockedBecause: 'source', identityNowUnderAttack };
    if (identityUnderAttack) {
      this.lock(entry, now);
      return { sourceFailures: 0, lockedForMs: entry.lockedUntil - now, lockedBecause: 'identity', identityNowUnderAttack };
    }
    return { sourceFailures: entry.failures, identityNowUnderAttack };
  }

  /** Counts a failure on an identity; one the full table cannot take is not counted (its sources still are). */
  private countIdentity(key: string, now: number, promised: number): { underAttack: boolean; nowUnderAttack: boolean } {
    const entry = this.take(key, now) ?? (this.makeRoom(now, promised) ? freshEntry(now) : undefined);
    if (!entry) return noAttack;
    let result = { underAttack: true, nowUnderAttack: false };
    if (entry.lockedUntil <= now) result = this.count(entry, now) ? { underAttack: true, nowUnderAttack: true } : noAttack;
    this.store(key, entry, now);
    return result;
  }

  /** A failure from a source the full table could not take: counted for its network, or else in the shared last resort. */
  private untrackedFailure(source: string, identityNowUnderAttack: boolean, now: number): FailureOutcome {
    let counted: FailureOutcome;
    let because: FailureOutcome['lockedBecause'];
    if (this.overflow) {
      counted = this.overflow.table.recordFailure(this.overflow.keyOf(source));
      because = counted.lockedBecause === 'source' ? 'network' : counted.lockedBecause;
    } else {
      if (!this.shared || this.expired(this.shared, now)) this.shared = freshEntry(now);
      counted = this.decide(this.shared, now, false, false);
      because = 'overflow';
    }
    if (counted.lockedForMs === undefined) return { sourceFailures: counted.sourceFailures, identityNowUnderAttack, tableFull: true };
    return { sourceFailures: 0, lockedForMs: counted.lockedForMs, ...(because !== undefined ? { lockedBecause: because } : {}), identityNowUnderAttack, tableFull: true };
  }

  /** Whether a new key would find a slot now (read-only but for the rate-limited scan {@link makeRoom} does too). */
  private canTake(now: number): boolean {
    if (this.size < this.policy.maxEntries || this.unlocked.size > 0) return true;
    if (now < this.nextLockedSweep) return false;
    this.nextLockedSweep = now + lockedSweepEveryMs;
    this.sweepLocked(now);
    return this.size < this.policy.maxEntries;
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

  /** The live entry of `key` without moving it (a lockout that ended moves it to the unlocked keys). */
  private find(key: string, now: number): Entry | undefined {
    const locked = this.locked.get(key);
    if (locked && locked.lockedUntil > now) return locked;
    if (locked) {
      this.locked.delete(key);
      if (this.expired(locked, now)) return undefined;
      this.unlocked.set(key, locked);
      return locked;
    }
    const entry = this.unlocked.get(key);
    if (entry && this.expired(entry, now)) {
      this.unlocked.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Removes `key` from the table and returns its live entry (undefined if absent or expired). */
  private take(key: string, now: number): Entry | undefined {
    const entry = this.find(key, now);
    this.locked.delete(key);
    this.unlocked.delete(key);
    return entry;
  }

  /** Puts `entry` back: among the locked keys, or as the most recent unlocked key. */
  private store(key: string, entry: Entry, now: number): void {
    (entry.lockedUntil > now ? this.locked : this.unlocked).set(key, entry);
  }

  /**
   * Frees a slot for a new key when the table is full (`promised`: keys taken out that
   * will be put back); false when every slot holds a locked key.
   */
  private makeRoom(now: number, promised = 0): boolean {
    const limit = this.policy.maxEntries - promised;
    if (this.size < limit) return true;
    if (this.unlocked.size === 0 && now >= this.nextLockedSweep) {
      // A scan of the locked keys, at most once a second and only while nothing else can go.
      this.nextLockedSweep = now + lockedSweepEveryMs;
      this.sweepLocked(now);
      if (this.size < limit) return true;
    }
    const oldest = this.unlocked.oldest();
    if (!oldest) return false;
    this.unlocked.delete(oldest[0]);
    return true;
  }

  /** Drops expired keys from the least recent end of the unlocked keys (O(1) amortized: each goes once). */
  private dropExpiredUnlocked(now: number): void {
    for (let oldest = this.unlocked.oldest(); oldest && this.expired(oldest[1], now); oldest = this.unlocked.oldest()) {
      this.unlocked.delete(oldest[0]);
    }
  }

  /** Moves locked keys whose lockout ended to the unlocked keys (or drops them when expired). */
  private sweepLocked(now: number): void {
    for (const [key, entry] of this.locked) {
      if (entry.lockedUntil > now) continue;
      this.locked.delete(key);
      if (!this.expired(entry, now)) this.unlocked.set(key, entry);
    }
  }
}

/** Fewest networks counted for the sources a full table cannot take. */
const minNetworkEntries = 16;

/** Least time between two scans of the locked keys made to find room in a full table. */
const lockedSweepEveryMs = 1_000;

const noAttack = Object.freeze({ underAttack: false, nowUnderAttack: false });

function freshEntry(now: number): Entry {
  return { failures: 0, windowStart: now, lockedUntil: 0, level: 0 };
}

function sourceKey(source: string): string {
  return `s:${source}`;
}

function identityKey(identity: string): string {
  return `i:${identity}`;
}
