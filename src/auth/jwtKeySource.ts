import { createLocalJWKSet, createRemoteJWKSet, customFetch, type FetchImplementation, type JWTVerifyGetKey } from 'jose';
import { RelayError } from '../common/relayError.js';
import type { JwtAlgorithm, JwtConfig } from '../config/jwtConfigSchema.js';
import { loadJwksFile, loadKeyFile, type LoadedKey } from './jwtKeys.js';

/**
 * Where the verification key of a token comes from: one key bound to one algorithm
 * (`auth.jwt.keyFile`), or a key set that picks the key by the token's `kid` and `alg`
 * (`auth.jwt.jwksFile`, `auth.jwt.jwksUrl`).
 */
export type JwtKeySource = { readonly kind: 'key'; readonly key: LoadedKey } | { readonly kind: 'keySet'; readonly resolve: JWTVerifyGetKey; readonly remote: boolean };

/** Bound on a JWKS HTTP response body. */
export const maxJwksResponseBytes = 512 * 1024;

/**
 * `fetch` that refuses a response body over `maxBytes` (jose itself reads it without
 * bound). Redirects are not followed (jose asks for `redirect: 'manual'`, and a
 * non-200 answer is refused).
 */
export function boundedFetch(maxBytes: number): FetchImplementation {
  return async (url, options) => {
    const response = await fetch(url, options);
    if (!response.body) return response;
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw new Error(`JWKS response exceeds ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
    return new Response(Buffer.concat(chunks), { status: response.status, headers: response.headers });
  };
}

/**
 * Builds the key source `jwt` configures and checks it against the algorithm
 * allow-list. A key file's algorithm must be in `auth.jwt.algorithms`. Throws
 * `CONFIG_INVALID` naming the key.
 */
export function jwtKeySourceFromConfig(jwt: JwtConfig): JwtKeySource {
  const allowed: readonly JwtAlgorithm[] = jwt.algorithms;
  if (jwt.keyFile !== undefined) {
    const key = loadKeyFile(jwt.keyFile, 'auth.jwt.keyFile', 'public');
    if (!allowed.includes(key.algorithm)) {
      throw new RelayError('CONFIG_INVALID', `auth.jwt.keyFile: the key is for ${key.algorithm}, which auth.jwt.algorithms does not list`);
    }
    return { kind: 'key', key };
  }
  if (jwt.jwksFile !== undefined) {
    return { kind: 'keySet', resolve: createLocalJWKSet(loadJwksFile(jwt.jwksFile, 'auth.jwt.jwksFile')), remote: false };
  }
  if (jwt.jwksUrl !== undefined) {
    const resolve = createRemoteJWKSet(new URL(jwt.jwksUrl), {
      timeoutDuration: jwt.jwksTimeoutMs,
      cooldownDuration: jwt.jwksCooldownMs,
      cacheMaxAge: jwt.jwksCacheMaxAgeMs,
      [customFetch]: boundedFetch(maxJwksResponseBytes),
    });
    return { kind: 'keySet', resolve, remote: true };
  }
  throw new RelayError('CONFIG_INVALID', 'auth.jwt.keyFile: one of auth.jwt.keyFile, auth.jwt.jwksFile or auth.jwt.jwksUrl is required');
}
