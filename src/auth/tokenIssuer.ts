import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { RelayError } from '../common/relayError.js';
import type { JwtConfig } from '../config/jwtConfigSchema.js';
import { grantsFromScopes } from '../protocol/scopes.js';
import { isValidSubject } from './jwtAuthenticator.js';
import { loadKeyFile } from './jwtKeys.js';

/** What `dbgrelay token issue` asks for. */
export interface TokenRequest {
  /** The `sub` claim; the relay's principal becomes `jwt:<sub>`. */
  readonly subject: string;
  /** Scopes: `admin`, `register:<pattern>`, `attach:<pattern>`. */
  readonly scopes: readonly string[];
  /** Lifetime in seconds, at most `auth.jwt.maxLifetimeS`. */
  readonly ttlS: number;
  /** `kid` header; defaults to the signing JWK's `kid`, if any. */
  readonly kid?: string;
  /** Issue time (epoch ms; default now). */
  readonly now?: number;
}

/** A signed token and what it says. */
export interface IssuedToken {
  readonly token: string;
  readonly algorithm: string;
  readonly jti: string;
  readonly expiresAt: Date;
}

const knownScope = /^(admin|(register|attach):[\x21-\x7e]{1,256})$/;

function required<T>(value: T | undefined, key: string): T {
  if (value === undefined) throw new RelayError('CONFIG_INVALID', `${key}: required to issue tokens`);
  return value;
}

/**
 * Signs a token the relay configured by `jwt` accepts (docs/operations.md, "Issuing
 * tokens"): key `auth.jwt.signingKeyFile` (its algorithm must be allowed), `iss`
 * and `aud` from the config, `sub`, `scope`, `iat`, `exp` and a random `jti`.
 * Refuses unknown or malformed scopes, no scope at all, and a lifetime over
 * `auth.jwt.maxLifetimeS` (`BAD_REQUEST`); configuration problems are `CONFIG_INVALID`.
 */
export async function issueToken(jwt: JwtConfig, request: TokenRequest): Promise<IssuedToken> {
  const file = required(jwt.signingKeyFile, 'auth.jwt.signingKeyFile');
  const issuer = required(jwt.issuer, 'auth.jwt.issuer');
  const audience = required(jwt.audience, 'auth.jwt.audience');
  if (!isValidSubject(request.subject)) throw new RelayError('BAD_REQUEST', '--sub: expected 1 to 256 printable ASCII characters');
  if (request.scopes.length === 0) throw new RelayError('BAD_REQUEST', '--scope: give at least one scope (admin, register:<pattern>, attach:<pattern>)');
  for (const scope of request.scopes) {
    if (!knownScope.test(scope)) throw new RelayError('BAD_REQUEST', `--scope: ${JSON.stringify(scope)} is not admin, register:<pattern> or attach:<pattern>`);
  }
  grantsFromScopes(request.scopes);
  if (!Number.isInteger(request.ttlS) || request.ttlS <= 0) throw new RelayError('BAD_REQUEST', '--ttl: must be a positive number of seconds');
  if (request.ttlS > jwt.maxLifetimeS) {
    throw new RelayError('BAD_REQUEST', `--ttl: ${request.ttlS} s exceeds auth.jwt.maxLifetimeS (${jwt.maxLifetimeS} s); the relay would refuse the token`);
  }
  const key = loadKeyFile(file, 'auth.jwt.signingKeyFile', 'private');
  if (!jwt.algorithms.includes(key.algorithm)) {
    throw new RelayError('CONFIG_INVALID', `auth.jwt.signingKeyFile: the key is for ${key.algorithm}, which auth.jwt.algorithms does not list`);
  }
  const kid = request.kid ?? key.kid;
  const issuedAt = Math.floor((request.now ?? Date.now()) / 1000);
  const jti = randomUUID();
  const token = await new SignJWT({ scope: request.scopes.join(' ') })
    .setProtectedHeader({ alg: key.algorithm, typ: 'JWT', ...(kid !== undefined ? { kid } : {}) })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject(request.subject)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + request.ttlS)
    .setJti(jti)
    .sign(key.key);
  return { token, algorithm: key.algorithm, jti, expiresAt: new Date((issuedAt + request.ttlS) * 1000) };
}
