import type { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { RelayError } from '../common/relayError.js';
import { isServerName } from '../common/serverName.js';
import type { ServerNames } from './certificateFactory.js';

/**
 * Splits `values` (each one name, or several separated by commas) into IP addresses
 * (v4 or v6, no zone) and DNS names (lower-cased, optionally `*.`-prefixed). Throws
 * `CONFIG_INVALID` naming `source` (the flag or key) for anything else.
 */
export function parseServerNames(values: readonly string[], source: string): ServerNames {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const value of values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '')) {
    if (!isServerName(value))
      throw new RelayError(
        'CONFIG_INVALID',
        `${source}: ${JSON.stringify(value)} is neither an IP address nor a DNS name${value.includes('%') ? ' (an IPv6 zone such as %eth0 cannot be in a certificate)' : ''}`,
      );
    if (isIP(value) !== 0) ipAddresses.push(value);
    else dnsNames.push(value.toLowerCase());
  }
  return { dnsNames, ipAddresses };
}

/**
 * One spelling per address, so that names compare as text: IPv6 in its shortest form
 * (`0:0:0:0:0:0:0:1` and `::1` are one address), DNS names lower-cased.
 */
export function canonicalName(name: string): string {
  if (isIP(name) === 6) return new URL(`http://[${name}]/`).hostname.slice(1, -1);
  return name.toLowerCase();
}

/** `names` as one list, DNS names first, each {@link canonicalName}d and once. */
export function nameList(names: ServerNames): string[] {
  return [...new Set([...names.dnsNames, ...names.ipAddresses].map(canonicalName))];
}

/** `a` and `b` together, each name once (DNS names first, then IP addresses, in order). */
export function unionOfNames(a: ServerNames, b: ServerNames): ServerNames {
  const unique = (list: readonly string[]): string[] => [...new Map(list.map((name) => [canonicalName(name), name])).values()];
  return { dnsNames: unique([...a.dnsNames, ...b.dnsNames]), ipAddresses: unique([...a.ipAddresses, ...b.ipAddresses]) };
}

/**
 * The DNS names and IP addresses a certificate's subjectAltName lists, in its order
 * (Node renders them as `DNS:a, IP Address:b`; a name with a comma is quoted and cannot
 * be a host name, so it is left out), each {@link canonicalName}d.
 */
export function certificateNames(cert: X509Certificate): string[] {
  const names: string[] = [];
  for (const entry of (cert.subjectAltName ?? '').split(', ')) {
    const match = /^(DNS|IP Address):(.+)$/.exec(entry);
    if (match && !match[2]!.startsWith('"')) names.push(canonicalName(match[2]!));
  }
  return names;
}

/** True when `a` and `b` hold the same names, in any order and spelling (see {@link canonicalName}). */
export function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a.map(canonicalName));
  const right = new Set(b.map(canonicalName));
  return left.size === right.size && [...left].every((name) => right.has(name));
}
