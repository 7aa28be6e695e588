/**
 * The network a failure source belongs to (a key made by `sourceOf`): an IPv4 address's
 * /24, an IPv6 /64's /48; anything else (an unknown address) stands for itself. A
 * full lockout table counts the failures of sources it cannot track by network, so
 * that an attacker with many addresses locks out only networks he holds addresses
 * in (docs/operations.md "Brute force"). /24 and /48 are the longest prefixes that
 * routing usually honours (RFC 6177 for /48), so one attacker rarely holds a share of
 * many of them.
 */
export function networkOf(source: string): string {
  const ipv4 = /^(\d+\.\d+\.\d+)\.\d+$/.exec(source);
  if (ipv4) return `${ipv4[1]!}.0/24`;
  const ipv6 = /^([0-9a-f]+:[0-9a-f]+:[0-9a-f]+):[0-9a-f]+::\/64$/.exec(source);
  if (ipv6) return `${ipv6[1]!}::/48`;
  return source;
}
