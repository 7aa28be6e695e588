import { decodeProtectedHeader, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type ProtectedHeaderParameters } from 'jose';
import { RelayError } from '../common/relayError.js';
import type { JwtAlgorithm, JwtConfig } from '../config/jwtConfigSchema.js';
import type { Logger } from '../log/logger.js';
import { grantsFromScopes } from '../protocol/scopes.js';
import { jwtKeySourceFromConfig, type JwtKeySource } from './jwtKeySource.js';
import { KeySetUnavailable, tokenRefusal } from './jwtRefusal.js';
import type { Authenticator, Credential, Principal } from './principal.js';

/** What a token must satisfy besides its signature (config `auth.jwt.*`). */
export interface JwtPolicy {
  readonly algorithms: readonly JwtAlgorithm[];
  readonly issuer: string;
  readonly audience: string;
  /** Longest accepted lifetime: `exp - iat`, or `exp - now` without `iat`. */
  readonly maxLifetimeS: number;
  readonly clockToleranceS: number;
  /** Tokens longer than this are refused before any parsing. */
  readonly maxTokenBytes: number;
}

/** RFC 7515 §7.1 compact serialization: three base64url parts (the signature may not be empty for us, but jose says why). */
const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** `sub` becomes part of the principal id that logs print. */
const subjectPattern = /^[\x21-\x7e][\x20-\x7e]{0,255}$/;

/** True when `sub` may name a principal: 1 to 256 printable ASCII characters, not starting with a space. */
export function isValidSubject(sub: unknown): sub is string {
  return typeof sub === 'string' && subjectPattern.test(sub);
}

/** The token's protected header, or undefined when it does not decode (jose has said why). */
function protectedHeaderOf(token: string): ProtectedHeaderParameters | undefined {
  try {
    return decodeProtectedHeader(token);
  } catch {
    return undefined;
  }
}

function refuse(message: string): RelayError {
  return new RelayError('AUTH_FAILED', message);
}

/**
 * The scopes of a token: the space-separated `scope` claim (RFC 8693 §4.2) and the
 * `scp` claim (a list, or a space-separated string), merged. Throws `AUTH_FAILED` when
 * either has the wrong type.
 */
export function scopesFromClaims(payload: JWTPayload): string[] {
  const scopes: string[] = [];
  const words = (value: unknown, claim: string): void => {
    if (value === undefined) return;
    if (typeof value === 'string') scopes.push(...value.split(/\s+/).filter(Boolean));
    else if (Array.isArray(value) && value.every((item) => typeof item === 'string')) scopes.push(...(value as string[]));
    else throw refuse(`token claim "${claim}" is malformed`);
  };
  words(payload['scope'], 'scope');
  words(payload['scp'], 'scp');
  return scopes;
}

/**
 * {@link Authenticator} for bearer JWTs (docs/protocol.md §2), verified with `jose`:
 * signature with the configured key or key set, the algorithm allow-list, `iss`,
 * `aud`, `exp` (and `nbf`) with the clock tolerance, a required `sub`, and a lifetime
 * no longer than the configured maximum. The principal is `jwt:<sub>` with the
 * grants of the token's scopes; it stops opening sessions at `exp` (plus tolerance).
 * Every refusal is `AUTH_FAILED` with a message that never quotes the token.
 */
export class JwtAuthenticator implements Authenticator {
  private readonly getKey: JWTVerifyGetKey;
  private readonly algorithms: JwtAlgorithm[];

  constructor(
    source: JwtKeySource,
    private readonly policy: JwtPolicy,
    private readonly logger?: Logger,
  ) {
    if (source.kind === 'key') {
      const { key, algorithm, kid } = source.key;
      // One key, one algorithm: an RS256 key never verifies an HS256 token.
      this.algorithms = policy.algorithms.includes(algorithm) ? [algorithm] : [];
      this.getKey = (header) => {
        if (kid !== undefined && header.kid !== undefined && header.kid !== kid) throw refuse('no key matches the token (unknown kid)');
        return key;
      };
    } else {
      this.algorithms = [...policy.algorithms];
      const resolve = source.resolve;
      this.getKey = async (header, token) => {
        try {
          return await resolve(header, token);
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS' || code === 'ERR_JOSE_NOT_SUPPORTED') throw error;
          throw new KeySetUnavailable(error);
        }
      };
    }
  }

  /** Builds the authenticator `auth.jwt` describes (keys loaded now). Throws `CONFIG_INVALID`. */
  static fromConfig(jwt: JwtConfig, logger?: Logger): JwtAuthenticator {
    if (jwt.issuer === undefined || jwt.audience === undefined) {
      throw new RelayError('CONFIG_INVALID', 'auth.jwt.issuer and auth.jwt.audience are required');
    }
    const policy: JwtPolicy = {
      algorithms: jwt.algorithms,
      issuer: jwt.issuer,
      audience: jwt.audience,
      maxLifetimeS: jwt.maxLifetimeS,
      clockToleranceS: jwt.clockToleranceS,
      maxTokenBytes: jwt.maxTokenBytes,
    };
    return new JwtAuthenticator(jwtKeySourceFromConfig(jwt), policy, logger);
  }

  async authenticate(credential: Credential | undefined): Promise<Principal> {
    if (credential === undefined) throw new RelayError('AUTH_REQUIRED', 'a credential is required');
    if (credential.kind !== 'bearer') throw refuse('expected a bearer token');
    return this.verify(credential.token);
  }

  /** Verifies `token` at time `now` (epoch ms) and returns its principal. */
  async verify(token: string, now = Date.now()): Promise<Principal> {
    const policy = this.policy;
    if (Buffer.byteLength(token, 'utf8') > policy.maxTokenBytes) throw refuse(`bearer token exceeds ${policy.maxTokenBytes} bytes`);
    if (!compactJws.test(token)) throw refuse('malformed bearer token (expected a compact JWS)');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.getKey, {
        algorithms: this.algorithms,
        issuer: policy.issuer,
        audience: policy.audience,
        clockTolerance: policy.clockToleranceS,
        requiredClaims: ['exp', 'sub', 'iss', 'aud'],
        currentDate: new Date(now),
      }));
    } catch (error) {
      if (error instanceof KeySetUnavailable) this.logger?.warn({ reason: error.reason }, 'cannot fetch the JWKS to verify a token');
      throw tokenRefusal(error, protectedHeaderOf(token));
    }
    return this.principalOf(payload, now);
  }

  private principalOf(payload: JWTPayload, now: number): Principal {
    const { policy } = this;
    const sub = payload.sub;
    if (!isValidSubject(sub)) throw refuse('token "sub" must be 1 to 256 printable ASCII characters');
    const exp = payload.exp!;
    const nowS = now / 1000;
    if (payload.iat !== undefined && payload.iat > nowS + policy.clockToleranceS) throw refuse('token issued in the future ("iat")');
    const lifetime = exp - (payload.iat ?? nowS);
    if (lifetime > policy.maxLifetimeS) throw refuse(`token lifetime exceeds the relay's maximum of ${policy.maxLifetimeS} s`);
    return Object.freeze({
      id: `jwt:${sub}`,
      grants: grantsFromScopes(scopesFromClaims(payload)),
      method: 'jwt' as const,
      expiresAt: (exp + policy.clockToleranceS) * 1000,
    });
  }
}
