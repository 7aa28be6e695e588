import type { IncomingHttpHeaders } from 'node:http';
import { prefetchHeader } from '../protocol/prefetch.js';
import { RelayError } from '../common/relayError.js';
import { sessionIdPattern } from '../protocol/controlMessages.js';

/** A WebSocket endpoint of docs/protocol.md §3. */
export type UpgradeRoute = { readonly kind: 'agent' } | { readonly kind: 'agentData'; readonly sessionId: string } | { readonly kind: 'attach'; readonly target: string };

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RelayError('BAD_REQUEST', 'malformed percent-encoding in the path');
  }
}

/**
 * Maps a request path (no query) to its WebSocket endpoint: `/v1/agent`,
 * `/v1/agent/sessions/<sessionId>`, `/v1/attach/<target>` (a member's `GROUP/MEMBER` with
 * its slash encoded or not; the broker checks the name). Throws `NOT_FOUND`, or
 * `UNKNOWN_SESSION` for a session id that cannot be one.
 */
export function parseUpgradeRoute(path: string): UpgradeRoute {
  const parts = path.split('/');
  // parts[0] is '' (the path starts with '/').
  if (parts[0] !== '' || parts[1] !== 'v1') throw new RelayError('NOT_FOUND', 'no such endpoint');
  if (parts.length === 3 && parts[2] === 'agent') return { kind: 'agent' };
  if (parts.length === 5 && parts[2] === 'agent' && parts[3] === 'sessions') {
    const sessionId = decode(parts[4]!);
    if (!sessionIdPattern.test(sessionId)) throw new RelayError('UNKNOWN_SESSION', 'unknown, used or expired session id');
    return { kind: 'agentData', sessionId };
  }
  if (parts.length === 4 && parts[2] === 'attach' && parts[3] !== '') return { kind: 'attach', target: decode(parts[3]!) };
  // A group member's name (GROUP/MEMBER) sent with its slash unencoded.
  if (parts.length === 5 && parts[2] === 'attach' && parts[3] !== '' && parts[4] !== '') return { kind: 'attach', target: `${decode(parts[3]!)}/${decode(parts[4]!)}` };
  throw new RelayError('NOT_FOUND', 'no such endpoint');
}

/** Request header by which an admin client asks to take a target over (docs/protocol.md §6). */
export const takeoverHeader = 'x-dbgrelay-takeover';

/**
 * True when an attach upgrade carries `X-Dbgrelay-Takeover: 1` (or `true`); false
 * without the header or with `0`/`false`. Any other value (or the header twice) is
 * `BAD_REQUEST`, so a typo never silently means "no takeover".
 */
export function takeoverRequested(headers: IncomingHttpHeaders): boolean {
  const value = headers[takeoverHeader];
  if (value === undefined) return false;
  if (typeof value !== 'string') throw new RelayError('BAD_REQUEST', 'X-Dbgrelay-Takeover given more than once');
  const normalized = value.trim().toLowerCase();
  if (normalized === '1' || normalized === 'true') return true;
  if (normalized === '0' || normalized === 'false') return false;
  throw new RelayError('BAD_REQUEST', 'X-Dbgrelay-Takeover must be 1 or 0');
}

/**
 * True when an attach upgrade carries `X-Dbgrelay-Prefetch: 1`: the client uses answers
 * sent ahead on each stop (docs/protocol.md §6). Any other value means no; the header
 * only ever saves round trips, so a wrong one needs no refusal.
 */
export function prefetchRequested(headers: IncomingHttpHeaders): boolean {
  return headers[prefetchHeader] === '1';
}

/** True for paths that only make sense as a WebSocket upgrade. */
export function isUpgradeOnlyPath(path: string): boolean {
  return /^\/v1\/(agent(\/sessions\/[^/]+)?|attach\/[^/]+(\/[^/]+)?)$/.test(path);
}

/**
 * Refuses with `BAD_REQUEST` an upgrade request that is not a WebSocket opening
 * handshake `ws` would complete (RFC 6455 §4.2.1: `GET`, `Upgrade: websocket`, a
 * `Sec-WebSocket-Key` of 16 base64 bytes, version 13 or 8). Checked before the relay
 * authenticates or asks an agent to open a session, so that a request that can never
 * become a WebSocket costs nothing and gets a JSON refusal like any other.
 */
export function requireWebSocketHandshake(request: { readonly method?: string | undefined; readonly headers: IncomingHttpHeaders }): void {
  if (request.method !== 'GET') throw new RelayError('BAD_REQUEST', 'a WebSocket upgrade must use GET');
  if (request.headers.upgrade?.toLowerCase() !== 'websocket') throw new RelayError('BAD_REQUEST', 'only "Upgrade: websocket" is supported');
  const key = request.headers['sec-websocket-key'];
  if (key === undefined || !/^[A-Za-z0-9+/]{22}==$/.test(key)) throw new RelayError('BAD_REQUEST', 'missing or invalid Sec-WebSocket-Key');
  const version = request.headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') throw new RelayError('BAD_REQUEST', 'unsupported Sec-WebSocket-Version (13 or 8)');
}
