import { describe, expect, it } from 'vitest';
import { wildcardPattern } from '../../../src/common/wildcardPattern.js';
import { seededRandom } from '../../support/seededRandom.js';

// The pattern language as it was first written: a backtracking regular expression. Fine for short texts; the reference here.
function referenceRegex(pattern: string): RegExp {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 'u');
}

describe('wildcardPattern', () => {
  it('matches whole names: * any run, ? one code point, the rest literal', () => {
    expect(wildcardPattern('web-*').test('web-1')).toBe(true);
    expect(wildcardPattern('web-*').test('web-')).toBe(true);
    expect(wildcardPattern('web-*').test('xweb-1')).toBe(false);
    expect(wildcardPattern('web-?').test('web-12')).toBe(false);
    expect(wildcardPattern('a?c').test('a😀c')).toBe(true);
    expect(wildcardPattern('a.c').test('abc')).toBe(false);
    expect(wildcardPattern('*').test('a\nb')).toBe(false);
    expect(wildcardPattern('').test('')).toBe(true);
    expect(wildcardPattern('**x**').test('yyx')).toBe(true);
  });

  it('agrees with the regular-expression form on random patterns and names', () => {
    const random = seededRandom(21);
    const alphabet = ['a', 'b', '*', '?', '.', '\n', '😀', '(', '\\'];
    const pick = (length: number): string => Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    for (let i = 0; i < 5_000; i++) {
      const pattern = pick(Math.floor(random() * 7));
      const name = pick(Math.floor(random() * 8))
        .replaceAll('*', 'a')
        .replaceAll('?', 'b');
      expect(wildcardPattern(pattern).test(name), `${JSON.stringify(pattern)} ~ ${JSON.stringify(name)}`).toBe(referenceRegex(pattern).test(name));
    }
  });

  it('agrees with the regular-expression form on patterns longer than one 32-state word', () => {
    const random = seededRandom(32);
    const pick = (alphabet: string, length: number): string => Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    for (let i = 0; i < 2_000; i++) {
      const parts = Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick('aab?', Math.floor(random() * 25)));
      const pattern = parts.join('*');
      const name = pick('ab', 30 + Math.floor(random() * 60));
      expect(wildcardPattern(pattern).test(name), `${pattern} ~ ${name}`).toBe(referenceRegex(pattern).test(name));
      // and a name built to match, so that matches are checked too, not only misses
      const matching = parts.map((part) => part.replaceAll('?', 'b')).join(pick('ab', 3));
      expect(wildcardPattern(pattern).test(matching), `${pattern} ~ ${matching}`).toBe(true);
    }
  });

  it('takes linear time on a pattern that makes a backtracking regex run for minutes', () => {
    const pattern = `${'*'.repeat(1)}${'a*'.repeat(127)}!`;
    const text = 'a'.repeat(10_000);
    const started = performance.now();
    expect(wildcardPattern(pattern).test(text)).toBe(false);
    expect(wildcardPattern('************!').test(text)).toBe(false);
    expect(performance.now() - started).toBeLessThan(50);
  });
});
