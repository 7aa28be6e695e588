import { decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { printable } from '../common/printable.js';
import { relativeTime } from '../common/durationText.js';
import { RelayError } from '../common/relayError.js';
import { scopesFromClaims } from './jwtAuthenticator.js';

/** A token's header and claims, decoded WITHOUT verifying anything. */
export interface UnverifiedToken {
  readonly verified: false;
  readonly header: ProtectedHeaderParameters;
  readonly claims: JWTPayload;
}

/** The warning every inspection starts with. */
export const notVerifiedWarning =
  'NOT VERIFIED: decoded without checking the signature, issuer, audience or expiry. Anyone can write a token that says this; only the relay decides whether it is valid.';

/**
 * Decodes a compact JWT's header and claims without checking the signature or any
 * claim (jose `decodeProtectedHeader`, `decodeJwt`). Throws `BAD_REQUEST` for
 * something that is not a JWT; the message never quotes the input.
 */
export function decodeUnverified(token: string): UnverifiedToken {
  const text = token.trim();
  try {
    return { verified: false, header: decodeProtectedHeader(text), claims: decodeJwt(text) };
  } catch {
    throw new RelayError('BAD_REQUEST', 'not a JWT in compact form (header.payload.signature, base64url JSON)');
  }
}

function when(value: unknown, now: number): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  const ms = value * 1000;
  const date = Number.isNaN(new Date(ms).getTime()) ? String(value) : new Date(ms).toISOString();
  return `${date} (${relativeTime(ms, now)})`;
}

/**
 * The human-readable inspection: the warning, a summary (subject, scopes, times,
 * whether `exp` has passed), then header and claims as JSON. Control characters from
 * the token are replaced, so a crafted token cannot drive the terminal.
 */
export function formatInspection(decoded: UnverifiedToken, now = Date.now()): string {
  const { header, claims } = decoded;
  let scopes: string;
  try {
    scopes = scopesFromClaims(claims).join(' ') || '(none)';
  } catch {
    scopes = '(malformed scope claim)';
  }
  const rows: Array<[string, string | undefined]> = [
    ['algorithm', typeof header.alg === 'string' ? header.alg : undefined],
    ['key id', typeof header.kid === 'string' ? header.kid : undefined],
    ['subject', typeof claims.sub === 'string' ? `${claims.sub} (relay principal jwt:${claims.sub})` : undefined],
    ['issuer', typeof claims.iss === 'string' ? claims.iss : undefined],
    ['audience', Array.isArray(claims.aud) ? claims.aud.join(', ') : claims.aud],
    ['scopes', scopes],
    ['issued', when(claims.iat, now)],
    ['not before', when(claims.nbf, now)],
    ['expires', when(claims.exp, now) ?? '(no exp: the relay refuses such a token)'],
    ['token id', typeof claims.jti === 'string' ? claims.jti : undefined],
  ];
  const lines = [notVerifiedWarning, ''];
  for (const [label, value] of rows) if (value !== undefined) lines.push(`${label.padEnd(11)} ${printable(String(value))}`);
  if (typeof claims.exp === 'number' && claims.exp * 1000 <= now) lines.push('', 'This token has expired.');
  const json = (value: unknown): string => JSON.stringify(value, null, 2).split('\n').map(printable).join('\n');
  lines.push('', 'header (unverified):', json(header), 'claims (unverified):', json(claims));
  return lines.join('\n') + '\n';
}
