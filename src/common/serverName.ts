import { isIP } from 'node:net';

const dnsName = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * True when `value` can be a name in a certificate's subjectAltName: an IPv4 or IPv6
 * address without a zone (`fe80::1%eth0` names an interface of one host, which no
 * certificate can list), or a DNS name of at most 253 characters, optionally
 * `*.`-prefixed (RFC 1035 §2.3.1 labels).
 */
export function isServerName(value: string): boolean {
  if (value.includes('%')) return false;
  if (isIP(value) !== 0) return true;
  return value.length <= 253 && dnsName.test(value);
}
