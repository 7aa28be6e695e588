import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, type JWTPayload } from 'jose';
import { JwtAuthenticator, type JwtPolicy } from '../../../src/auth/jwtAuthenticator.js';
import { loadKeyFile } from '../../../src/auth/jwtKeys.js';
import type { JwtAlgorithm } from '../../../src/config/jwtConfigSchema.js';

/** A fresh directory for key files. */
export function keyDir(): string {
  return mkdtempSync(join(tmpdir(), 'dbgrelay-jwt-'));
}

/** Writes `content` to `name` in `dir` and returns the path. */
export function writeKey(dir: string, name: string, content: string): string {
  const file = join(dir, name);
  writeFileSync(file, content, { mode: 0o600 });
  return file;
}

/** A signing key and its verification key, for one algorithm. */
export interface TestKeyPair {
  readonly algorithm: JwtAlgorithm;
  readonly signing: KeyObject | Uint8Array;
  /** Public key (asymmetric) or the secret (HS256). */
  readonly verifying: KeyObject | Uint8Array;
}

/** Generates a key pair (or an HS256 secret) for `algorithm`. */
export function generateTestKey(algorithm: JwtAlgorithm): TestKeyPair {
  switch (algorithm) {
    case 'HS256': {
      // A text secret, as `openssl rand -base64 32 > file` makes: its UTF-8 bytes are the key.
      const secret = new TextEncoder().encode(randomBytes(32).toString('base64url'));
      return { algorithm, signing: secret, verifying: secret };
    }
    case 'RS256': {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return { algorithm, signing: privateKey, verifying: publicKey };
    }
    case 'ES256': {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      return { algorithm, signing: privateKey, verifying: publicKey };
    }
    case 'EdDSA': {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      return { algorithm, signing: privateKey, verifying: publicKey };
    }
  }
}

/** PEM (SPKI) of an asymmetric public key. */
export function publicPem(key: KeyObject | Uint8Array): string {
  return (key as KeyObject).export({ type: 'spki', format: 'pem' }).toString();
}

/** JWK (JSON text) of a public key, with optional extra members (kid, alg). */
export function publicJwk(key: KeyObject | Uint8Array, extra: Record<string, string> = {}): Record<string, unknown> {
  const k = key as KeyObject;
  return { ...(k.type === 'public' ? k : createPublicKey(k)).export({ format: 'jwk' }), ...extra };
}

export const issuer = 'https://issuer.test';
export const audience = 'dbgrelay-test';

/** Default policy of the tests. */
export const testPolicy: JwtPolicy = {
  algorithms: ['HS256', 'RS256', 'ES256', 'EdDSA'],
  issuer,
  audience,
  maxLifetimeS: 3600,
  clockToleranceS: 30,
  maxTokenBytes: 4096,
};

/** Options of {@link signToken}: claims override the defaults; `header` adds header members. */
export interface SignOptions {
  readonly claims?: JWTPayload;
  readonly header?: Record<string, unknown>;
  /** Omit these default claims. */
  readonly omit?: readonly string[];
  /** Clock for iat/exp (epoch ms). */
  readonly now?: number;
}

/** Signs a token: iss, aud, sub alice, scope attach:web-*, iat now, exp now+600 unless overridden. */
export async function signToken(pair: TestKeyPair, options: SignOptions = {}): Promise<string> {
  const nowS = Math.floor((options.now ?? Date.now()) / 1000);
  const claims: JWTPayload = { iss: issuer, aud: audience, sub: 'alice', scope: 'attach:web-*', iat: nowS, exp: nowS + 600, ...options.claims };
  for (const key of options.omit ?? []) delete claims[key];
  return new SignJWT(claims).setProtectedHeader({ alg: pair.algorithm, ...options.header }).sign(pair.signing);
}

/** An authenticator verifying with `pair`'s key, written to a file in the given form. */
export function authenticatorFor(pair: TestKeyPair, policy: Partial<JwtPolicy> = {}): JwtAuthenticator {
  const dir = keyDir();
  const file =
    pair.algorithm === 'HS256' ? writeKey(dir, 'hs.key', `${new TextDecoder().decode(pair.verifying as Uint8Array)}\n`) : writeKey(dir, 'key.pem', publicPem(pair.verifying));
  return new JwtAuthenticator({ kind: 'key', key: loadKeyFile(file, 'auth.jwt.keyFile', 'public') }, { ...testPolicy, ...policy });
}

/** Expects `promise` to reject with a RelayError of `code`; returns its message. */
export async function refusal(promise: Promise<unknown>, code = 'AUTH_FAILED'): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const actual = (error as { code?: string }).code;
    if (actual !== code) throw new Error(`expected ${code}, got ${actual}: ${(error as Error).message}`);
    return (error as Error).message;
  }
  throw new Error(`expected a ${code} refusal, but it was accepted`);
}
