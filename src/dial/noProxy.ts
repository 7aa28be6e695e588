import { BlockList, isIP } from 'node:net';

/** One parsed `NO_PROXY` entry. */
type NoProxyEntry =
  | { readonly kind: 'all' }
  | { readonly kind: 'name'; readonly suffix: string; readonly port?: number }
  | { readonly kind: 'ip'; readonly list: BlockList; readonly family: 'ipv4' | 'ipv6'; readonly port?: number };

function splitPort(entry: string): { host: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, ...(bracketed[2] ? { port: Number(bracketed[2]) } : {}) };
  if (isIP(entry.split('/')[0]!) === 6) return { host: entry }; // bare IPv6 (or CIDR): no port
  const withPort = /^(.*):(\d{1,5})$/.exec(entry);
  return withPort ? { host: withPort[1]!, port: Number(withPort[2]) } : { host: entry };
}

function parseEntry(raw: string): NoProxyEntry | undefined {
  const entry = raw.trim().toLowerCase();
  if (entry === '') return undefined;
  if (entry === '*') return { kind: 'all' };
  const { host, port } = splitPort(entry);
  const portPart = port !== undefined ? { port } : {};
  const [address, prefixText, extra] = host.split('/');
  const version = isIP(address ?? '');
  if (version !== 0 && extra === undefined && (prefixText === undefined || /^\d{1,3}$/.test(prefixText))) {
    const family = version === 4 ? 'ipv4' : 'ipv6';
    const bits = version === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? bits : Math.min(Number(prefixText), bits);
    const list = new BlockList();
    list.addSubnet(address!, prefix, family);
    return { kind: 'ip', list, family, ...portPart };
  }
  // `.example.com` and `*.example.com` mean the same as `example.com` (curl, Go, Python).
  const suffix = host.replace(/^\*?\.+/, '').replace(/\.$/, '');
  return suffix === '' ? undefined : { kind: 'name', suffix, ...portPart };
}

function entryMatches(entry: NoProxyEntry, host: string, port: number): boolean {
  if (entry.kind === 'all') return true;
  if (entry.port !== undefined && entry.port !== port) return false;
  if (entry.kind === 'ip') {
    const version = isIP(host);
    return version !== 0 && (version === 4 ? 'ipv4' : 'ipv6') === entry.family && entry.list.check(host, entry.family);
  }
  if (isIP(host) !== 0) return false;
  return host === entry.suffix || host.endsWith(`.${entry.suffix}`);
}

/**
 * True when `NO_PROXY` (its value `noProxy`) says the relay at `host:port` is reached
 * directly. Entries are separated by commas or white space, case-insensitive:
 *
 * - `*` alone: every host;
 * - a name (`example.com`, `.example.com`, `*.example.com`): that name and every name
 *   under it, never a name that merely ends the same (`notexample.com`);
 * - an IP address or CIDR block (`10.0.0.5`, `10.0.0.0/8`, `::1`, `fd00::/8`): a host
 *   written as an IP address inside it;
 * - any of these with `:port` (`[v6]:port` for IPv6): only that port.
 *
 * Names are compared as written in the relay URL and never resolved: `localhost` does
 * not cover `127.0.0.1`, and loopback is not exempt unless the variable lists it.
 */
export function noProxyMatches(noProxy: string, host: string, port: number): boolean {
  const target = host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
  return noProxy
    .split(/[\s,]+/)
    .map(parseEntry)
    .some((entry) => entry !== undefined && entryMatches(entry, target, port));
}
