import { createPrivateKey, createPublicKey, createSecretKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { JSONWebKeySet } from 'jose';
import { RelayError } from '../common/relayError.js';
import type { JwtAlgorithm } from '../config/jwtConfigSchema.js';

/** A key read from a file, bound to the one algorithm its type allows. */
export interface LoadedKey {
  readonly key: KeyObject;
  readonly algorithm: JwtAlgorithm;
  /** The JWK's `kid`, when the file was a JWK that had one. */
  readonly kid?: string;
}

/** Bound on a key or key-set file. */
const maxKeyFileBytes = 1024 * 1024;
/** RFC 7518 §3.2: an HS256 key must be at least as long as the hash output. */
const minHmacKeyBytes = 32;

function invalid(configKey: string, why: string): RelayError {
  return new RelayError('CONFIG_INVALID', `${configKey}: ${why}`);
}

/** Reads a key file (at most 1 MiB). Errors name the key and file, never the content. */
export function readKeyFile(file: string, configKey: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw invalid(configKey, `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (Buffer.byteLength(text) > maxKeyFileBytes) throw invalid(configKey, `${file} is larger than 1 MiB`);
  if (text.trim() === '') throw invalid(configKey, `${file} is empty`);
  return text.trim();
}

/**
 * The single algorithm a key may be used with: HS256 for a secret of at least 32
 * bytes, RS256 for RSA of at least 2048 bits, ES256 for P-256, EdDSA for Ed25519.
 * Binding each key to one algorithm is what rules out algorithm confusion (an RSA
 * public key used as an HMAC secret). Throws `CONFIG_INVALID` for anything else.
 */
export function algorithmForKey(key: KeyObject, configKey: string): JwtAlgorithm {
  if (key.type === 'secret') {
    if ((key.symmetricKeySize ?? 0) < minHmacKeyBytes) throw invalid(configKey, `an HS256 key must be at least ${minHmacKeyBytes} bytes`);
    return 'HS256';
  }
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      if ((details.modulusLength ?? 0) < 2048) throw invalid(configKey, 'an RSA key must have at least 2048 bits');
      return 'RS256';
    case 'ec':
      if (details.namedCurve !== 'prime256v1') throw invalid(configKey, 'an EC key must be on curve P-256 (ES256)');
      return 'ES256';
    case 'ed25519':
      return 'EdDSA';
    default:
      throw invalid(configKey, `unsupported key type ${key.asymmetricKeyType ?? key.type} (use HS256, RS256, ES256 or EdDSA keys)`);
  }
}

function parseJwk(text: string, file: string, configKey: string): JsonWebKey {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid(configKey, `${file} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(configKey, `${file} is not a JWK object`);
  if ('keys' in value) throw invalid(configKey, `${file} holds a key set; use auth.jwt.jwksFile for a JWKS`);
  return value as JsonWebKey;
}

function keyFromJwk(jwk: JsonWebKey, want: 'public' | 'private', file: string, configKey: string): KeyObject {
  if (jwk['use'] !== undefined && jwk['use'] !== 'sig') throw invalid(configKey, `${file}: the JWK's "use" is not "sig"`);
  try {
    if (jwk.kty === 'oct') {
      if (typeof jwk.k !== 'string') throw new Error('no k');
      return createSecretKey(Buffer.from(jwk.k, 'base64url'));
    }
    if (want === 'private') {
      if (jwk.d === undefined) throw invalid(configKey, `${file} is a public JWK; signing needs the private key`);
      return createPrivateKey({ key: jwk, format: 'jwk' });
    }
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch (error) {
    if (error instanceof RelayError) throw error;
    throw invalid(configKey, `${file} is not a usable JWK`);
  }
}

function keyFromPem(pem: string, want: 'public' | 'private', file: string, configKey: string): KeyObject {
  try {
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
      const privateKey = createPrivateKey(pem);
      return want === 'private' ? privateKey : createPublicKey(privateKey);
    }
  } catch {
    throw invalid(configKey, `${file} is not a usable PEM private key`);
  }
  if (want === 'private') throw invalid(configKey, `${file} holds no private key; signing needs one`);
  try {
    // A public key (SPKI) or an X.509 certificate.
    return createPublicKey(pem);
  } catch {
    throw invalid(configKey, `${file} is not a usable PEM public key or certificate`);
  }
}

/**
 * Loads a key for verifying (`public`) or signing (`private`) from `file`: a PEM
 * (public key, certificate or private key), a JWK (JSON, `kty` `oct` for HS256), or
 * else the file's trimmed text as an HS256 secret. Throws `CONFIG_INVALID` naming
 * `configKey`; never quotes the file's content.
 */
export function loadKeyFile(file: string, configKey: string, want: 'public' | 'private'): LoadedKey {
  const text = readKeyFile(file, configKey);
  let key: KeyObject;
  let kid: string | undefined;
  let declared: unknown;
  if (text.includes('-----BEGIN')) key = keyFromPem(text, want, file, configKey);
  else if (text.startsWith('{')) {
    const jwk = parseJwk(text, file, configKey);
    key = keyFromJwk(jwk, want, file, configKey);
    kid = typeof jwk['kid'] === 'string' ? jwk['kid'] : undefined;
    declared = jwk['alg'];
  } else key = createSecretKey(Buffer.from(text, 'utf8'));
  const algorithm = algorithmForKey(key, configKey);
  if (declared !== undefined && declared !== algorithm) {
    throw invalid(configKey, `${file}: the JWK declares alg ${JSON.stringify(declared)} but the key is for ${algorithm}`);
  }
  return { key, algorithm, ...(kid !== undefined ? { kid } : {}) };
}

/**
 * Reads a local JWKS file (RFC 7517 §5): a JSON object with a `keys` array of public
 * keys. Private or secret members are refused, since a key set is public by nature.
 */
export function loadJwksFile(file: string, configKey: string): JSONWebKeySet {
  const text = readKeyFile(file, configKey);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid(configKey, `${file} is not valid JSON`);
  }
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw invalid(configKey, `${file} is not a JWKS (expected {"keys": [...]} with at least one key)`);
  for (const jwk of keys) {
    if (typeof jwk !== 'object' || jwk === null) throw invalid(configKey, `${file}: every entry of "keys" must be a JWK object`);
    if ('d' in jwk || 'k' in jwk) throw invalid(configKey, `${file}: a key set must hold public keys only (found private or secret key material)`);
  }
  return value as JSONWebKeySet;
}
