import { createHmac, randomBytes } from 'node:crypto';
import { isValidTargetName } from '../protocol/targetName.js';
import { LockoutTable, type FailureOutcome, type LockoutPolicy } from './lockoutTable.js';
import { RecencyMap } from './recencyMap.js';

/** Bounds of attach-secret guessing per target (config `auth.attachSecrets.guessLimit`). */
export interface AttachGuessPolicy {
  /** Failed attach-secret attempts on one target within `windowMs` that close it to guesses. */
  readonly threshold: number;
  /** Length of the counting window, from the first failure of the window. */
  readonly windowMs: number;
  /** First closing; each further one of the same target doubles it. */
  readonly baseMs: number;
  /** Cap on one closing (short: while no attack goes on, a closing ends within this). */
  readonly maxMs: number;
  /** Targets tracked at most (memory bound). */
  readonly maxTargets: number;
  /** How long a source that presented a target's correct attach secret stays exempt from its closings. */
  readonly trustedSourceMs: number;
}

/** Sources remembered per target as having presented its correct attach secret. */
const maxTrustedSourcesPerTarget = 16;

/** Buckets the targets a full table cannot track are counted in (each closing closes about 1/256 of names). */
const untrackedBuckets = 256;

/**
 * Counts failed attach-secret attempts per target, whatever source they come from
 * (docs/operations.md "Brute force"). A target that collects `threshold` failures
 * within `windowMs` is *closed to guesses* for `baseMs`, doubling with each further
 * closing up to `maxMs`: meanwhile a secret presented for it is refused with
 * `AUTH_LOCKED` without being compared, so that however many sources an attacker
 * has, at most about `threshold` guesses per `max(windowMs, maxMs)` are ever
 * compared. The target itself stays open to everyone who authenticates otherwise
 * (relay secret, JWT, client certificate), and to the sources that presented its
 * correct attach secret within `trustedSourceMs` (at most 16 per target). Anyone
 * else waits for the closing to end: at most `maxMs` for one closing, but an attacker
 * who keeps failing keeps the target closed (about `maxMs` of every `maxMs` plus the
 * time to fail `threshold` times), so a new source may wait as long as the attack
 * lasts; what bounds it is that trusted sources and the other credentials are never
 * affected, and each refused guess counts against its source's own lockout.
 * Only names that may be target names ({@link isValidTargetName}) are counted,
 * whether or not such a target exists: closings tell nothing about which targets
 * exist, and names that can never exist take no room. The counting is a
 * {@link LockoutTable} keyed by target: a closed target is never evicted. When the
 * table is full of closed targets (say of made-up names), a failure on a target it
 * does not track is counted (`tableFull`) in one of 256 buckets, picked by an HMAC
 * of the name under a key drawn at start, with the same threshold and times; a
 * closed bucket closes the untracked targets whose names fall in it, about 1/256 of
 * names, and the attacker cannot aim at a chosen bucket. So a real target is never
 * guessed without limit, and trusted sources and the other credentials are never
 * affected. The bucket table holds every bucket, so it never fills.
 */
export class AttachGuessTable {
  private readonly failures: LockoutTable;
  /** target → (source → trusted until), least recently used first. */
  private readonly trusted = new RecencyMap<RecencyMap<number>>();
  /** Key of the bucket HMAC: a name's bucket cannot be computed outside this process. */
  private readonly bucketKey = randomBytes(32);

  constructor(
    private readonly policy: AttachGuessPolicy,
    private readonly clock: () => number = Date.now,
  ) {
    const { threshold, windowMs, baseMs, maxMs, maxTargets } = policy;
    const counting: LockoutPolicy = { threshold, windowMs, baseMs, maxMs, maxEntries: maxTargets };
    this.failures = new LockoutTable(counting, clock, [{ keyOf: (target) => this.bucketOf(target), maxEntries: untrackedBuckets }]);
  }

  /** Milliseconds for which guesses on `target` from `source` are refused without comparing (0: compare). */
  closedFor(target: string, source: string): number {
    const ms = this.failures.lockedFor(target);
    return ms > 0 && !this.isTrusted(target, source) ? ms : 0;
  }

  /** Counts a presented secret that did not match `target`'s attach secret (not counted for a name no target may have). */
  recordFailure(target: string): FailureOutcome {
    if (!isValidTargetName(target)) return { sourceFailures: 0, identityNowUnderAttack: false };
    return this.failures.recordFailure(target);
  }

  /** Remembers that `source` presented `target`'s correct attach secret. */
  recordSuccess(target: string, source: string): void {
    const sources = this.trusted.get(target) ?? new RecencyMap<number>();
    sources.set(source, this.clock() + this.policy.trustedSourceMs);
    while (sources.size > maxTrustedSourcesPerTarget) sources.delete(sources.oldest()![0]);
    this.trusted.set(target, sources);
    while (this.trusted.size > this.policy.maxTargets) this.trusted.delete(this.trusted.oldest()![0]);
  }

  /** Number of targets (and buckets of untracked targets) closed to guesses right now (for the `dbgrelay_auth_attach_closed_targets` gauge). */
  closedTargets(): number {
    return this.failures.lockedSources();
  }

  private bucketOf(target: string): string {
    return `b:${createHmac('sha256', this.bucketKey).update(target).digest().readUInt32BE(0) % untrackedBuckets}`;
  }

  private isTrusted(target: string, source: string): boolean {
    const until = this.trusted.get(target)?.get(source);
    return until !== undefined && until > this.clock();
  }
}
