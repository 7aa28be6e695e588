import { describe, expect, it } from 'vitest';
import { AttachGuessTable, type AttachGuessPolicy } from '../../../src/auth/attachGuessTable.js';

const policy: AttachGuessPolicy = { threshold: 10, windowMs: 60_000, baseMs: 5_000, maxMs: 60_000, maxTargets: 100, trustedSourceMs: 3_600_000 };

function table(overrides: Partial<AttachGuessPolicy> = {}): { guesses: AttachGuessTable; advance: (ms: number) => void } {
  let now = 1_000_000;
  const guesses = new AttachGuessTable({ ...policy, ...overrides }, () => now);
  return { guesses, advance: (ms) => (now += ms) };
}

describe('AttachGuessTable', () => {
  it('closes a target to guesses after threshold failures from 34 different sources', () => {
    const { guesses } = table();
    const sources = Array.from({ length: 34 }, (_, i) => `198.51.100.${i}`);
    const outcomes = sources.slice(0, 10).map(() => guesses.recordFailure('web-1'));
    expect(outcomes.slice(0, 9).every((o) => o.lockedForMs === undefined)).toBe(true);
    expect(outcomes[9]).toMatchObject({ lockedForMs: 5_000 });
    // Every source is refused now, the 24 that never guessed included; other targets are not.
    for (const source of sources) expect(guesses.closedFor('web-1', source)).toBe(5_000);
    expect(guesses.closedFor('web-2', sources[0]!)).toBe(0);
    expect(guesses.closedTargets()).toBe(1);
  });

  it('grows the closing with each round, up to maxMs, and opens again when it runs out', () => {
    const { guesses, advance } = table();
    const closings: number[] = [];
    for (let round = 0; round < 6; round++) {
      let closedFor = 0;
      for (let i = 0; i < 10; i++) closedFor = guesses.recordFailure('web-1').lockedForMs ?? closedFor;
      closings.push(closedFor);
      advance(closedFor);
      expect(guesses.closedFor('web-1', '203.0.113.9')).toBe(0);
    }
    expect(closings).toEqual([5_000, 10_000, 20_000, 40_000, 60_000, 60_000]);
  });

  it('bounds the guesses compared to about threshold per maxMs, however many sources guess', () => {
    const { guesses, advance } = table();
    // 10,000 sources each try once a second for an hour; only unrefused guesses are compared.
    let compared = 0;
    for (let second = 0; second < 3_600; second++) {
      for (let source = 0; source < 10_000 && guesses.closedFor('web-1', `s${source}`) === 0; source++) {
        compared++;
        guesses.recordFailure('web-1');
      }
      advance(1_000);
    }
    // 10 per closing; closings of 5+10+20+40 s, then 60 s each: 4 + 3525/60 ≈ 63 rounds, ~10 a minute
    // (10,000 a second would be compared without the limit).
    expect(compared).toBeLessThanOrEqual(10 * 64);
    expect(compared).toBeGreaterThanOrEqual(10 * 58);
  });

  it('keeps a closed target open to the sources that presented its correct secret', () => {
    const { guesses, advance } = table({ trustedSourceMs: 60_000 });
    guesses.recordSuccess('web-1', '10.0.0.7');
    for (let i = 0; i < 10; i++) guesses.recordFailure('web-1');
    expect(guesses.closedFor('web-1', '10.0.0.7')).toBe(0);
    expect(guesses.closedFor('web-1', '10.0.0.8')).toBe(5_000);
    // Trust is per target and runs out.
    expect(guesses.closedFor('web-2', '10.0.0.7')).toBe(0);
    for (let i = 0; i < 10; i++) guesses.recordFailure('web-2');
    expect(guesses.closedFor('web-2', '10.0.0.7')).toBe(5_000);
    advance(60_000);
    for (let i = 0; i < 10; i++) guesses.recordFailure('web-1');
    expect(guesses.closedFor('web-1', '10.0.0.7')).toBeGreaterThan(0);
  });

  it('remembers at most 16 trusted sources per target, the most recent', () => {
    const { guesses } = table();
    for (let i = 0; i < 20; i++) guesses.recordSuccess('web-1', `10.0.0.${i}`);
    for (let i = 0; i < 10; i++) guesses.recordFailure('web-1');
    expect(guesses.closedFor('web-1', '10.0.0.3')).toBe(5_000);
    expect(guesses.closedFor('web-1', '10.0.0.4')).toBe(0);
    expect(guesses.closedFor('web-1', '10.0.0.19')).toBe(0);
  });

  it('limits guesses on an untracked target while the table is full of closed made-up ones, and keeps most others open', () => {
    const { guesses } = table({ maxTargets: 100 });
    for (let i = 0; i < 100; i++) for (let f = 0; f < 10; f++) guesses.recordFailure(`fake-${i}`);
    expect(guesses.closedTargets()).toBe(100);
    guesses.recordSuccess('web-1', '10.0.0.7');
    // The real target web-1 has no slot: its failures count in its bucket, which closes at the threshold.
    for (let f = 0; f < 9; f++) expect(guesses.recordFailure('web-1')).toMatchObject({ tableFull: true, sourceFailures: f + 1 });
    expect(guesses.closedFor('web-1', '10.0.0.1')).toBe(0);
    expect(guesses.recordFailure('web-1')).toMatchObject({ tableFull: true, lockedForMs: 5_000 });
    expect(guesses.closedFor('web-1', '10.0.0.1')).toBe(5_000);
    // A source that presented web-1's correct secret still compares; tracked targets keep their own closing.
    expect(guesses.closedFor('web-1', '10.0.0.7')).toBe(0);
    expect(guesses.closedFor('fake-0', '10.0.0.1')).toBe(5_000);
    // Only web-1's bucket closed: about 1/256 of other untracked names share it.
    let closed = 0;
    for (let i = 0; i < 1_000; i++) if (guesses.closedFor(`other-${i}`, '10.0.0.1') > 0) closed++;
    expect(closed).toBeLessThan(30);
    expect(guesses.closedTargets()).toBe(101);
  });

  it('does not count names no target may have, so they cannot fill the table', () => {
    const { guesses } = table({ threshold: 1, maxTargets: 100 });
    for (const name of ['../etc', 'a b', '', '-x', 'x'.repeat(64), 'web\u00001', 'web-1/../x', 'web-1/', '/web-1'])
      expect(guesses.recordFailure(name)).toEqual({ sourceFailures: 0, identityNowUnderAttack: false });
    // GROUP/MEMBER is a name (a worker's); a third part is not
    for (let i = 0; i < 1_000; i++) guesses.recordFailure(`fake/${i}/x`);
    expect(guesses.closedTargets()).toBe(0);
    expect(guesses.closedFor('fake/0/x', '10.0.0.1')).toBe(0);
    // A real name is still counted in a table of its own: it closes as usual.
    expect(guesses.recordFailure('web-1')).toEqual({ sourceFailures: 0, lockedForMs: 5_000, lockedBecause: 'source', identityNowUnderAttack: false });
    expect(guesses.closedFor('web-1', '10.0.0.1')).toBe(5_000);
  });
});
