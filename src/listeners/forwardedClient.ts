import type { IncomingHttpHeaders } from 'node:http';
import { RelayError } from '../common/relayError.js';
import { isIP, type BlockList } from 'node:net';

/** Who sent a request, as far as the relay can tell (after trusted front ends). */
export interface ClientOrigin {
  /** The client's IP address (the TCP peer, or the forwarded address from a trusted proxy). */
  readonly ip: string | undefined;
  /** `ip:port` for logs and audit; the port is the peer's, or the forwarded one, else absent. */
  readonly display: string;
  /** `ip:port` of the trusted front end the request came through, when it was forwarded. */
  readonly proxy?: string;
  /** `X-Forwarded-Proto` of a trusted front end (`https`, `http`, ...), lower case. */
  readonly forwardedProto?: string;
}

/** Most `X-Forwarded-For` hops looked at (a longer chain is cut at the right end). */
const maxHops = 32;

function unmapped(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? mapped[1]! : ip;
}

function isTrusted(ip: string, trusted: BlockList): boolean {
  const plain = unmapped(ip.split('%')[0]!);
  const version = isIP(plain);
  return version !== 0 && trusted.check(plain, version === 4 ? 'ipv4' : 'ipv6');
}

/**
 * One `X-Forwarded-For` element: `203.0.113.7`, `2001:db8::1`, and the forms with a
 * port some front ends send (`203.0.113.7:51234`, `[2001:db8::1]:51234`, as Azure App
 * Service does). Returns undefined for anything else (`unknown`, obfuscated ids).
 */
export function parseForwardedElement(element: string): { ip: string; port?: number } | undefined {
  const text = element.trim().replace(/^"(.*)"$/, '$1');
  if (isIP(text) !== 0) return { ip: unmapped(text) };
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed && isIP(bracketed[1]!) === 6) return { ip: unmapped(bracketed[1]!), ...(bracketed[2] ? { port: Number(bracketed[2]) } : {}) };
  const v4 = /^(\d+\.\d+\.\d+\.\d+):(\d{1,5})$/.exec(text);
  if (v4 && isIP(v4[1]!) === 4) return { ip: v4[1]!, port: Number(v4[2]) };
  return undefined;
}

function headerValues(headers: IncomingHttpHeaders, name: string): string[] {
  const value = headers[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(','));
}

function display(ip: string | undefined, port: number | undefined): string {
  const host = ip === undefined ? '?' : ip.includes(':') ? `[${ip}]` : ip;
  return port === undefined ? host : `${host}:${port}`;
}

/**
 * The client of an HTTP request. Only when the TCP peer is one of
 * `frontEnd.trustedProxies` are `X-Forwarded-For` and `X-Forwarded-Proto` believed:
 * the `X-Forwarded-For` chain is walked from the right (the hop closest to the relay),
 * skipping trusted proxies, and the first address that is not one is the client; when
 * every hop is trusted the leftmost is. An element that is not an address stops the
 * walk at the last trusted hop (a client can write anything left of what the front end
 * appended). From any other peer the headers are ignored, so a client cannot choose the
 * address its failures are counted under (docs/operations.md "Behind a front end").
 */
export function clientOrigin(
  peer: { readonly remoteAddress?: string | undefined; readonly remotePort?: number | undefined },
  headers: IncomingHttpHeaders,
  trusted: BlockList,
): ClientOrigin {
  const peerIp = peer.remoteAddress === undefined ? undefined : unmapped(peer.remoteAddress);
  const direct: ClientOrigin = { ip: peerIp, display: display(peerIp, peer.remotePort) };
  if (peerIp === undefined || !isTrusted(peerIp, trusted)) return direct;
  const proto = headerValues(headers, 'x-forwarded-proto')[0]?.trim().toLowerCase();
  const hops = headerValues(headers, 'x-forwarded-for').slice(-maxHops);
  let client: { ip: string; port?: number } | undefined;
  for (let i = hops.length - 1; i >= 0; i -= 1) {
    const hop = parseForwardedElement(hops[i]!);
    if (hop === undefined) break;
    client = hop;
    if (!isTrusted(hop.ip, trusted)) break;
  }
  const withProto = proto ? { forwardedProto: proto } : {};
  if (client === undefined) return { ...direct, ...withProto };
  return { ip: client.ip, display: display(client.ip, client.port), proxy: direct.display, ...withProto };
}

/**
 * Refuses with `BAD_REQUEST` a request a trusted front end says it received without
 * TLS (`X-Forwarded-Proto: http`/`ws`): its credential has crossed the network in
 * clear text. Requests without the header are accepted.
 */
export function refuseCleartextOrigin(origin: ClientOrigin): void {
  const proto = origin.forwardedProto;
  if (proto !== undefined && proto !== 'https' && proto !== 'wss') {
    throw new RelayError('BAD_REQUEST', `the front end received this request over ${proto}; dbgrelay accepts credentials only over TLS (https/wss)`);
  }
}

/** Log and authentication fields of an origin (see `AuthWhere`). */
export function originFields(origin: ClientOrigin): { remote: string; proxy?: string; clientIp?: string } {
  if (origin.proxy === undefined) return { remote: origin.display };
  return { remote: origin.display, proxy: origin.proxy, ...(origin.ip !== undefined ? { clientIp: origin.ip } : {}) };
}
