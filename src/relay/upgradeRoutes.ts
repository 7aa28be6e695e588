import { RelayError } from '../common/relayError.js';
import { sessionIdPattern } from '../protocol/controlMessages.js';

/** A WebSocket endpoint of docs/protocol.md §3. */
export type UpgradeRoute =
  | { readonly kind: 'agent' }
  | { readonly kind: 'agentData'; readonly sessionId: string }
  | { readonly kind: 'attach'; readonly target: string };

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RelayError('BAD_REQUEST', 'malformed percent-encoding in the path');
  }
}

/**
 * Maps a request path (no query) to its WebSocket endpoint: `/v1/agent`,
 * `/v1/agent/sessions/<sessionId>`, `/v1/attach/<target>`. Throws `NOT_FOUND`, or
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
  throw new RelayError('NOT_FOUND', 'no such endpoint');
}

/** True for paths that only make sense as a WebSocket upgrade. */
export function isUpgradeOnlyPath(path: string): boolean {
  return /^\/v1\/(agent(\/sessions\/[^/]+)?|attach\/[^/]+)$/.test(path);
}
