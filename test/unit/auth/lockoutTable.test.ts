import { describe, expect, it } from 'vitest';
import { LockoutTable, type LockoutPolicy } from '../../../src/auth/lockoutTable.js';

const policy: LockoutPolicy = { threshold: 3, windowMs: 60_000, baseMs: 1_000, maxMs: 8_000, maxEntries: 100 };

function table(overrides: Partial<LockoutPolicy> = {}): { lockout: LockoutTable; advance: (ms: number) => void } {
  let now = 1_000_000;
  const lockout = new LockoutTable({ ...policy, ...overrides }, () => now);
  return { lockout, advance: (ms) => (now += ms) };
}

describe('LockoutTable per source', () => {
  it('locks a source at the threshold, and only that source', () => {
    const { lockout } = table();
    expect(lockout.recordFailure('10.0.0.1')).toEqual({ sourceFailures: 1, identityNowUnderAttack: false });
    expect(lockout.recordFailure('10.0.0.1').sourceFailures).toBe(2);
    expect(lockout.lockedFor('10.0.0.1')).toBe(0);
    const third = lockout.recordFailure('10.0.0.1');
    expect(third).toMatchObject({ lockedForMs: 1_000, lockedBecause: 'source' });
    expect(lockout.lockedFor('10.0.0.1')).toBe(1_000);
    expect(lockout.lockedFor('10.0.0.2')).toBe(0);
    expect(lockout.lockedSources()).toBe(1);
  });

  it('doubles the lockout each time, up to maxMs, and unlocks when it runs out', () => {
    const { lockout, advance } = table();
    const durations: number[] = [];
    for (let round = 0; round < 6; round++) {
      let outcome;
      for (let i = 0; i < 3; i++) outcome = lockout.recordFailure('10.0.0.1');
      durations.push(outcome!.lockedForMs!);
      advance(outcome!.lockedForMs!);
      expect(lockout.lockedFor('10.0.0.1')).toBe(0);
    }
    expect(durations).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  it('does not extend a running lockout with the failures it refuses', () => {
    const { lockout, advance } = table();
    for (let i = 0; i < 3; i++) lockout.recordFailure('10.0.0.1');
    advance(500);
    expect(lockout.recordFailure('10.0.0.1').lockedForMs).toBeUndefined();
    expect(lockout.lockedFor('10.0.0.1')).toBe(500);
  });

  it('forgets failures older than the window', () => {
    const { lockout, advance } = table();
    lockout.recordFailure('10.0.0.1');
    lockout.recordFailure('10.0.0.1');
    advance(60_000);
    expect(lockout.recordFailure('10.0.0.1').sourceFailures).toBe(1);
    expect(lockout.lockedFor('10.0.0.1')).toBe(0);
  });

  it('forgets the escalation maxMs after the last lockout ended', () => {
    const { lockout, advance } = table();
    for (let i = 0; i < 3; i++) lockout.recordFailure('10.0.0.1');
    advance(1_000);
    for (let i = 0; i < 3; i++) lockout.recordFailure('10.0.0.1');
    expect(lockout.lockedFor('10.0.0.1')).toBe(2_000);
    advance(2_000 + 8_000 + 60_000);
    let outcome;
    for (let i = 0; i < 3; i++) outcome = lockout.recordFailure('10.0.0.1');
    expect(outcome!.lockedForMs).toBe(1_000);
  });
});

describe('LockoutTable per identity', () => {
  it('spots failures on one identity spread over sources, then locks any source that fails on it at once', () => {
    const { lockout } = table();
    // Three sources, one failure each: no source reaches the threshold...
    expect(lockout.recordFailure('10.0.0.1', 'jwt:alice').identityNowUnderAttack).toBe(false);
    expect(lockout.recordFailure('10.0.0.2', 'jwt:alice').identityNowUnderAttack).toBe(false);
    const third = lockout.recordFailure('10.0.0.3', 'jwt:alice');
    // ...but the identity did: the source that made it cross is locked,
    expect(third).toMatchObject({ identityNowUnderAttack: true, lockedBecause: 'identity' });
    expect(lockout.lockedFor('10.0.0.3')).toBe(1_000);
    // the earlier ones are not (their one failure each stays under the threshold),
    expect(lockout.lockedFor('10.0.0.1')).toBe(0);
    // and a fresh source failing once on the same identity is locked at its first failure.
    expect(lockout.recordFailure('10.0.0.4', 'jwt:alice')).toMatchObject({ lockedBecause: 'identity', lockedForMs: 1_000 });
    // A failure on another identity from a fresh source is counted normally.
    expect(lockout.recordFailure('10.0.0.5', 'jwt:bob')).toEqual({ sourceFailures: 1, identityNowUnderAttack: false });
  });

  it('never locks the identity itself: its sources that do not fail stay open', () => {
    const { lockout } = table();
    for (const source of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) lockout.recordFailure(source, 'cert:alice');
    // The legitimate holder's source has no failure and is not locked (nothing to check: only sources lock).
    expect(lockout.lockedFor('192.168.1.10')).toBe(0);
  });

  it('keeps counting per source when the identity changes between attempts', () => {
    const { lockout } = table();
    lockout.recordFailure('10.0.0.1', 'jwt:a');
    lockout.recordFailure('10.0.0.1', 'jwt:b');
    expect(lockout.recordFailure('10.0.0.1', 'jwt:c')).toMatchObject({ lockedBecause: 'source', identityNowUnderAttack: false });
  });
});

describe('LockoutTable memory', () => {
  it('never holds more than maxEntries keys, dropping expired ones first and then the oldest', () => {
    const { lockout, advance } = table({ maxEntries: 100 });
    for (let i = 0; i < 1_000; i++) lockout.recordFailure(`10.0.${i >> 8}.${i & 255}`);
    expect(lockout.size).toBe(100);
    advance(60_000);
    lockout.sweep();
    expect(lockout.size).toBe(0);
  });

  it('keeps a locked source while the table churns under its limit', () => {
    const { lockout } = table({ maxEntries: 100 });
    for (let i = 0; i < 3; i++) lockout.recordFailure('10.9.9.9');
    for (let i = 0; i < 50; i++) lockout.recordFailure(`10.0.0.${i}`);
    expect(lockout.lockedFor('10.9.9.9')).toBe(1_000);
  });
});

describe('LockoutTable under a flood of other sources', () => {
  const defaults: Partial<LockoutPolicy> = { threshold: 10, baseMs: 60_000, maxMs: 900_000, maxEntries: 10_000 };

  it('keeps a locked source locked through 9 bad tokens from each of 1100 other sources (11 s)', () => {
    const { lockout, advance } = table(defaults);
    for (let i = 0; i < 10; i++) lockout.recordFailure('192.0.2.66', 'jwt:victim');
    expect(lockout.lockedFor('192.0.2.66')).toBe(60_000);
    // Each bad token names another identity: 1100 sources + 9900 identities > maxEntries.
    for (let s = 0; s < 1_100; s++) {
      for (let t = 0; t < 9; t++) {
        lockout.recordFailure(`10.${s >> 8}.${s & 255}.1`, `jwt:user-${s}-${t}`);
        advance(1);
      }
    }
    advance(11_000 - 9_900);
    expect(lockout.size).toBeLessThanOrEqual(10_000);
    expect(lockout.lockedFor('192.0.2.66')).toBe(60_000 - 11_000);
    // The flooding sources stayed under the threshold: none is locked, and the newest are tracked.
    expect(lockout.lockedSources()).toBe(1);
    expect(lockout.recordFailure('10.4.75.1', 'jwt:user-1099-9')).toMatchObject({ lockedBecause: 'source' });
  });

  it('keeps an identity under attack through the flood', () => {
    const { lockout } = table({ ...defaults, threshold: 3, maxEntries: 100 });
    for (const source of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) lockout.recordFailure(source, 'jwt:alice');
    for (let i = 0; i < 500; i++) lockout.recordFailure(`10.1.${i >> 8}.${i & 255}`, `jwt:other-${i}`);
    expect(lockout.recordFailure('10.9.9.9', 'jwt:alice')).toMatchObject({ lockedBecause: 'identity' });
  });

  it('lets new sources in while the table is full of locked sources, counting their failures by network', () => {
    const { lockout, advance } = table({ threshold: 2, baseMs: 10_000, maxMs: 40_000, maxEntries: 100 });
    for (let i = 0; i < 100; i++) for (let f = 0; f < 2; f++) lockout.recordFailure(`10.0.${i >> 8}.${i & 255}`);
    expect(lockout.lockedSources()).toBe(100);
    // A new source fails: no room without evicting a locked source. It is counted for its /24, nobody is locked.
    expect(lockout.recordFailure('192.0.2.1')).toEqual({ sourceFailures: 1, identityNowUnderAttack: false, tableFull: true });
    expect(lockout.lockedFor('192.0.2.1')).toBe(0);
    expect(lockout.lockedFor('198.51.100.7')).toBe(0);
    // A second failure from that /24 locks the network: its untracked sources, and only they, are refused.
    expect(lockout.recordFailure('192.0.2.2')).toEqual({ sourceFailures: 0, lockedForMs: 10_000, lockedBecause: 'network', identityNowUnderAttack: false, tableFull: true });
    expect(lockout.lockedFor('192.0.2.200')).toBe(10_000);
    expect(lockout.lockedFor('192.0.3.1')).toBe(0);
    expect(lockout.lockedFor('198.51.100.7')).toBe(0);
    expect(lockout.lockedFor('10.0.0.5')).toBe(10_000);
    expect(lockout.lockedSources()).toBe(101);
    expect(lockout.size).toBe(100);
    // Everything runs out; new sources are tracked again, one by one.
    advance(10_000);
    expect(lockout.lockedFor('192.0.2.1')).toBe(0);
    expect(lockout.recordFailure('192.0.2.1')).toEqual({ sourceFailures: 1, identityNowUnderAttack: false });
  });

  it('does not let a made-up identity under attack lock the relay out by filling the table', () => {
    const { lockout } = table({ threshold: 10, baseMs: 60_000, maxMs: 900_000, maxEntries: 100 });
    // Ten failures on a made-up JWT sub: the identity is under attack...
    for (let i = 0; i < 10; i++) lockout.recordFailure('203.0.113.1', 'jwt:made-up');
    // ...so each new source is locked at its first failure on it, until the table is full of them.
    let full = 0;
    for (let s = 0; s < 300; s++) {
      const outcome = lockout.recordFailure(`10.${s}.0.1`, 'jwt:made-up');
      if (outcome.tableFull) {
        full++;
        // No slot of its own: one failure counts for its network and locks nothing.
        expect(outcome).toEqual({ sourceFailures: 1, identityNowUnderAttack: false, tableFull: true });
      }
    }
    expect(full).toBeGreaterThan(200);
    expect(lockout.size).toBe(100);
    // A source that never failed is not refused before its credential is checked.
    expect(lockout.lockedFor('192.0.2.1')).toBe(0);
    expect(lockout.lockedFor('10.250.0.1')).toBe(0);
  });

  it('counts IPv6 sources a full table cannot take by /48', () => {
    const { lockout } = table({ threshold: 1, maxEntries: 100 });
    for (let i = 0; i < 100; i++) lockout.recordFailure(`10.0.0.${i}`);
    expect(lockout.recordFailure('2001:db8:1:1::/64')).toMatchObject({ lockedBecause: 'network', tableFull: true });
    expect(lockout.lockedFor('2001:db8:1:ffff::/64')).toBe(1_000);
    expect(lockout.lockedFor('2001:db8:2:1::/64')).toBe(0);
  });

  it('locks the sources no table can take after threshold failures when the network table is full too', () => {
    const { lockout, advance } = table({ maxEntries: 100 });
    for (let i = 0; i < 100; i++) for (let f = 0; f < 3; f++) lockout.recordFailure(`10.0.0.${i}`);
    advance(500);
    // The network table holds 16 (a tenth of 100, at least 16): fill it with locked networks.
    for (let n = 0; n < 16; n++) for (let f = 0; f < 3; f++) lockout.recordFailure(`10.1.${n}.${f}`);
    expect(lockout.lockedFor('10.1.3.9')).toBe(1_000);
    advance(400);
    // Sources of three other networks: counted together, locked at the threshold, not at the first failure.
    expect(lockout.recordFailure('192.0.2.1')).toEqual({ sourceFailures: 1, identityNowUnderAttack: false, tableFull: true });
    expect(lockout.lockedFor('192.0.2.1')).toBe(0);
    expect(lockout.recordFailure('198.51.100.1')).toEqual({ sourceFailures: 2, identityNowUnderAttack: false, tableFull: true });
    expect(lockout.recordFailure('203.0.113.1')).toEqual({ sourceFailures: 0, lockedForMs: 1_000, lockedBecause: 'overflow', identityNowUnderAttack: false, tableFull: true });
    expect(lockout.lockedFor('172.16.5.5')).toBe(1_000);
    // Tracked sources and tracked networks keep their own times.
    expect(lockout.lockedFor('10.0.0.5')).toBe(100);
    expect(lockout.lockedFor('10.1.3.9')).toBe(600);
    expect(lockout.lockedSources()).toBe(100 + 16 + 1);
    // Once the main table has room again, an untracked source is not refused for the shared count.
    advance(100);
    expect(lockout.lockedFor('10.0.0.5')).toBe(0);
    expect(lockout.lockedFor('172.16.5.5')).toBe(0);
  });

  it('counts the keys a table without tiers cannot take in one shared entry, with growing times', () => {
    let now = 1_000_000;
    const targets = new LockoutTable({ ...policy, maxEntries: 100 }, () => now, []);
    const fill = (): void => {
      for (let i = 0; i < 100; i++) for (let f = 0; f < 3; f++) targets.recordFailure(`t-${i}`);
    };
    fill();
    expect(targets.recordFailure('t-100')).toEqual({ sourceFailures: 1, identityNowUnderAttack: false, tableFull: true });
    expect(targets.lockedFor('t-100')).toBe(0);
    targets.recordFailure('t-101');
    expect(targets.recordFailure('t-102')).toMatchObject({ lockedForMs: 1_000, lockedBecause: 'overflow' });
    expect(targets.lockedFor('t-999')).toBe(1_000);
    expect(targets.lockedFor('t-0')).toBe(1_000);
    now += 1_000;
    expect(targets.lockedFor('t-999')).toBe(0);
    fill();
    for (let f = 0; f < 3; f++) targets.recordFailure(`t-${200 + f}`);
    expect(targets.lockedFor('t-999')).toBe(2_000);
  });

  it('finds room without scanning the whole table per failure', () => {
    const { lockout, advance } = table({ threshold: 1_000, maxEntries: 10_000 });
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) {
      lockout.recordFailure(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, `jwt:u${i}`);
      if (i % 100 === 0) advance(1);
    }
    expect(lockout.size).toBe(10_000);
    // A scan per failure would be 100k × 10k steps (tens of seconds); a bound far above the O(1) cost.
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
