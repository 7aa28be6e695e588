import { describe, expect, it } from 'vitest';
import { sourceOf } from '../../../src/auth/sourceAddress.js';

describe('sourceOf', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['64:ff9b::10.0.0.1', '64:ff9b:0:0::/64'],
    [undefined, 'unknown'],
  ])('%s counts as %s', (address, key) => {
    expect(sourceOf(address)).toBe(key);
  });

  it('puts two addresses of one IPv6 /64 under one key, and of two /64s under two', () => {
    expect(sourceOf('2001:db8:aa:bb::1')).toBe(sourceOf('2001:db8:aa:bb:ffff:ffff:ffff:ffff'));
    expect(sourceOf('2001:db8:aa:bb::1')).not.toBe(sourceOf('2001:db8:aa:bc::1'));
  });
});
