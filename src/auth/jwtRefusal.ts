import { RelayError } from '../common/relayError.js';

/**
 * The remote or local key set could not give a key for a reason other than "no key
 * matches" (fetch failed, timed out, answered non-200 or too much). The relay's
 * problem rather than the token's: logged, then refused as `AUTH_FAILED`.
 */
export class KeySetUnavailable extends Error {
  override readonly name = 'KeySetUnavailable';
  /** Short reason for the relay's log (never carries the token). */
  readonly reason: string;
  /** True when the fetch timed out (`auth.jwt.jwksTimeoutMs`). */
  readonly timedOut: boolean;

  constructor(cause: unknown) {
    super('key set unavailable', { cause });
    const code = (cause as { code?: unknown }).code;
    this.timedOut = code === 'ERR_JWKS_TIMEOUT';
    this.reason = `${typeof code === 'string' ? `${code}: ` : ''}${cause instanceof Error ? cause.message : String(cause)}`.slice(0, 300);
  }
}

/** Claim names jose reports, and what a refusal says about each. */
const claimMessages: Readonly<Record<string, string>> = {
  nbf: 'token is not yet valid ("nbf")',
  iat: 'token "iat" is invalid',
  iss: 'token issuer ("iss") is not accepted',
  aud: 'token audience ("aud") is not accepted',
  sub: 'token "sub" is invalid',
  exp: 'token "exp" is invalid',
};

/** Extension names jose understands in a JWS `crit` header (RFC 7797 `b64`); any other one it refuses. */
const recognizedCriticalExtensions: ReadonlySet<unknown> = new Set(['b64']);

/**
 * True when a token's protected header lists, in `crit` (RFC 7515 §4.1.11), an
 * extension the relay does not understand: the token must then be refused, and
 * jose reports that with the same code as an unsupported `alg`.
 */
function hasUnknownCriticalExtension(header: { readonly crit?: unknown } | undefined): boolean {
  const crit = header?.crit;
  return Array.isArray(crit) && crit.some((name) => !recognizedCriticalExtensions.has(name));
}

/**
 * Maps a jose error (switching on its `code`, never its text) to the `AUTH_FAILED`
 * refusal sent to the peer; `header` (the token's decoded protected header, if it
 * decodes) tells a refused `crit` extension from an unsupported `alg`. Messages name
 * the failed check, never the token, a claim or a header value.
 */
export function tokenRefusal(error: unknown, header?: { readonly crit?: unknown }): RelayError {
  if (error instanceof RelayError) return error;
  // No `cause`: jose's claim errors carry the token's payload, which must not reach a log.
  const refuse = (message: string): RelayError => new RelayError('AUTH_FAILED', message);
  if (error instanceof KeySetUnavailable) {
    return refuse(error.timedOut ? 'the relay could not fetch its key set in time; try again' : 'the relay could not fetch its key set; try again');
  }
  const { code, claim, reason } = error as { code?: unknown; claim?: unknown; reason?: unknown };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return refuse('token expired');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const name = typeof claim === 'string' ? claim : '';
      if (reason === 'missing' && name in claimMessages) return refuse(`token lacks the required "${name}" claim`);
      return refuse(claimMessages[name] ?? 'token claims are invalid');
    }
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return refuse('token algorithm ("alg") is not allowed');
    case 'ERR_JOSE_NOT_SUPPORTED':
      if (hasUnknownCriticalExtension(header)) return refuse('token header marks an extension the relay does not support as critical ("crit")');
      return refuse('token algorithm ("alg") is not supported');
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return refuse('token signature is invalid');
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return refuse('no key matches the token (unknown kid)');
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return refuse('several keys match the token; it must name one with "kid"');
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return refuse('malformed token');
    default:
      return refuse('token refused');
  }
}
