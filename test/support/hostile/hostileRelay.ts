import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, type JWTPayload } from 'jose';
import { startE2eRelay, type E2eRelay } from '../relay/e2eRelay.js';
import type { ProbeTarget } from './hostileProbes.js';
import type { RelayEndpoints } from '../relay/relayLinks.js';

/**
 * The relay the hostile-input suite attacks, and the credentials around it: the relay
 * secret, an RS256 key (as a JWK with a `kid`) for bearer tokens, with HS256 on the
 * algorithm allow-list too (so that algorithm confusion is actually tempting), a
 * short handshake timeout, and lockout and attach-secret guess thresholds high enough
 * that the table's many failures from 127.0.0.1 on web-1 do not lock the suite out.
 */
export const jwtIssuer = 'https://idp.hostile.test';
export const jwtAudience = 'dbgrelay-hostile';
export const jwtKid = 'hostile-k1';
/** `limits.handshakeTimeoutMs` of the suite's relay. */
export const handshakeTimeoutMs = 800;
/** `auth.jwt.maxLifetimeS` of the suite's relay. */
export const maxLifetimeS = 3_600;

/** The relay under attack and what the suite knows about it. */
export interface HostileRelay {
  readonly relay: E2eRelay;
  readonly endpoints: RelayEndpoints;
  readonly wss: ProbeTarget;
  readonly tcps: ProbeTarget;
  /** The RSA key pair of the token issuer; the relay has the public half. */
  readonly signingKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public key as PEM (what an attacker would use as an HMAC secret). */
  readonly publicPem: string;
}

/**
 * Every credential the suite uses, right or wrong: none of them may appear in the
 * relay's log, an error message, or a refusal.
 */
export const usedCredentials = new Set<string>();

/** Records a credential (see {@link usedCredentials}) and returns it. */
export function credential(value: string): string {
  usedCredentials.add(value);
  return value;
}

/** A random wrong secret of realistic shape. */
export function wrongSecret(): string {
  return credential(randomBytes(32).toString('base64url'));
}

/** Starts the suite's relay on 127.0.0.1 with fresh development certificates. */
export async function startHostileRelay(): Promise<HostileRelay> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-hostile-'));
  const keyFile = join(dir, 'issuer.jwk.json');
  writeFileSync(keyFile, JSON.stringify({ ...publicKey.export({ format: 'jwk' }), kid: jwtKid, alg: 'RS256', use: 'sig' }));
  const relay = await startE2eRelay({
    overrides: {
      limits: { handshakeTimeoutMs, openTimeoutMs: 2_000, maxControlMessageBytes: 64 * 1024 },
      auth: {
        jwt: { enabled: true, algorithms: ['HS256', 'RS256'], issuer: jwtIssuer, audience: jwtAudience, keyFile, maxLifetimeS, clockToleranceS: 5 },
        lockout: { enabled: true, threshold: 1_000_000 },
        attachSecrets: { guessLimit: { threshold: 1_000_000 } },
      },
    },
  });
  credential(relay.secret);
  const ca = readFileSync(relay.caFile, 'utf8');
  const wssPort = relay.handle.wssAddress!.port;
  const tcpsPort = relay.handle.tcpsAddress!.port;
  return {
    relay,
    endpoints: { wssPort, tcpsPort, ca },
    wss: { port: wssPort, ca },
    tcps: { port: tcpsPort, ca },
    signingKey: privateKey,
    publicKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Claims and header of a test token; each field may be overridden or removed (`undefined`). */
export interface TokenShape {
  readonly sub?: string | undefined;
  readonly scope?: string | undefined;
  readonly iss?: string | undefined;
  readonly aud?: string | string[] | undefined;
  /** Seconds relative to now. */
  readonly iatIn?: number | undefined;
  readonly expIn?: number | undefined;
  readonly nbfIn?: number | undefined;
  readonly kid?: string | undefined;
  readonly extra?: JWTPayload;
  /** Extra protected header parameters (`jwk`, `jku`, ...). */
  readonly header?: Record<string, unknown>;
}

const defaults: Required<Pick<TokenShape, 'sub' | 'scope' | 'iss' | 'aud' | 'iatIn' | 'expIn' | 'kid'>> = {
  sub: 'alice',
  scope: 'attach:web-*',
  iss: jwtIssuer,
  aud: jwtAudience,
  iatIn: 0,
  expIn: 300,
  kid: jwtKid,
};

/** The claims of `shape` (defaults: a valid client token for `attach:web-*`). */
export function claimsOf(shape: TokenShape = {}): JWTPayload {
  const merged = { ...defaults, ...shape };
  const now = Math.floor(Date.now() / 1000);
  const claims: JWTPayload = { ...shape.extra };
  // A key absent from `shape` takes its default; one given as undefined is left out.
  if (merged.sub !== undefined) claims.sub = merged.sub;
  if (merged.scope !== undefined) claims['scope'] = merged.scope;
  if (merged.iss !== undefined) claims.iss = merged.iss;
  if (merged.aud !== undefined) claims.aud = merged.aud;
  if (merged.iatIn !== undefined) claims.iat = now + merged.iatIn;
  if (merged.expIn !== undefined) claims.exp = now + merged.expIn;
  if (shape.nbfIn !== undefined) claims.nbf = now + shape.nbfIn;
  return claims;
}

/** Signs `shape` with the issuer's RSA key (RS256), or with `key` and `alg`. */
export async function signedToken(relay: HostileRelay, shape: TokenShape = {}, alg = 'RS256', key: KeyObject | Uint8Array = relay.signingKey): Promise<string> {
  const kid = 'kid' in shape ? shape.kid : jwtKid;
  const header = { ...shape.header, alg, typ: 'JWT', ...(kid !== undefined ? { kid } : {}) };
  const token = await new SignJWT(claimsOf(shape)).setProtectedHeader(header).sign(key);
  return credential(token);
}

/** base64url of a JSON value. */
export function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A fresh agent id. */
export function agentId(): string {
  return randomUUID();
}
