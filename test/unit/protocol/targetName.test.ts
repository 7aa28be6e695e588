import { describe, expect, it } from 'vitest';
import { targetPatternCovers } from '../../../src/auth/grants.js';
import { isPlainTargetName, isValidTargetName, maxTargetNameChars, targetGroupOf } from '../../../src/protocol/targetName.js';

describe('target names', () => {
  it.each(['web-1', 'a', 'web-1/12345', 'web.prod_1/worker-2', `${'a'.repeat(63)}/${'b'.repeat(63)}`])('accepts %s', (name) => {
    expect(isValidTargetName(name)).toBe(true);
  });

  it.each([
    '',
    '/x',
    'x/',
    'a/b/c',
    'web-1/../x',
    '../etc',
    'web-1/.hidden',
    'web-1//2',
    'a b',
    'web\u00001',
    'x'.repeat(64),
    `a/${'b'.repeat(64)}`,
    'web-1\\2',
  ])('refuses %j', (name) => {
    expect(isValidTargetName(name)).toBe(false);
  });

  it('bounds a name at two full parts and the slash', () => {
    const longest = `${'a'.repeat(63)}/${'b'.repeat(63)}`;
    expect(longest).toHaveLength(maxTargetNameChars);
    expect(isValidTargetName(longest)).toBe(true);
    expect(isValidTargetName(`${longest}c`)).toBe(false);
  });

  it('keeps one-part names for what has no members (configured targets, SSH forwards)', () => {
    expect(isPlainTargetName('web-1')).toBe(true);
    expect(isPlainTargetName('web-1/2')).toBe(false);
  });

  it('knows the group of a member', () => {
    expect(targetGroupOf('web-1/12345')).toBe('web-1');
    expect(targetGroupOf('web-1')).toBeUndefined();
  });

  it('lets a pattern for a group cover its members, and one for a member only that member', () => {
    expect(targetPatternCovers('web-1', 'web-1/12345')).toBe(true);
    expect(targetPatternCovers('web-*', 'web-1/12345')).toBe(true);
    expect(targetPatternCovers('web-1/12345', 'web-1/12345')).toBe(true);
    expect(targetPatternCovers('web-1/12345', 'web-1/99')).toBe(false);
    expect(targetPatternCovers('web-1/12345', 'web-1')).toBe(false);
    expect(targetPatternCovers('web-1', 'web-10/1')).toBe(false);
    expect(targetPatternCovers('web-1', 'web-2/1')).toBe(false);
  });
});
