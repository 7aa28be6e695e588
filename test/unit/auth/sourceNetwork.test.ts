import { describe, expect, it } from 'vitest';
import { sourceOf } from '../../../src/auth/sourceAddress.js';
import { networkOf } from '../../../src/auth/sourceNetwork.js';

describe('networkOf', () => {
  it('takes the /24 of an IPv4 source and the /48 of an IPv6 one', () => {
    expect(networkOf(sourceOf('192.0.2.77'))).toBe('192.0.2.0/24');
    expect(networkOf(sourceOf('::ffff:198.51.100.9'))).toBe('198.51.100.0/24');
    expect(networkOf(sourceOf('2001:db8:1:2:3:4:5:6'))).toBe('2001:db8:1::/48');
    expect(networkOf(sourceOf('2001:db8::1'))).toBe('2001:db8:0::/48');
  });

  it('keeps any other source as it is', () => {
    expect(networkOf(sourceOf(undefined))).toBe('unknown');
    expect(networkOf('not-an-address')).toBe('not-an-address');
  });
});
