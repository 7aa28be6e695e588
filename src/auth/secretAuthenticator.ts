import { createHash, timingSafeEqual } from 'node:crypto';
import { RelayError } from '../common/relayError.js';
import { allGrants } from './grants.js';
import type { Authenticator, Credential, Principal } from './principal.js';

/** SHA-256 digest of a secret: the only form in which the relay keeps a secret. */
export function secretDigest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Compares two secrets in constant time: both are hashed to SHA-256 first, so the
 * comparison neither depends on where they differ nor leaks the length.
 */
export function secretsEqual(presented: string, expectedDigest: Buffer): boolean {
  return timingSafeEqual(secretDigest(presented), expectedDigest);
}

/** The principal id of anyone holding the relay-wide secret (and no client certificate). */
export const relaySecretPrincipalId = 'relay-secret';

/** The principal of anyone holding the relay-wide secret: every role (protocol v1). */
const secretHolder: Principal = Object.freeze({
  id: relaySecretPrincipalId,
  grants: allGrants,
  method: 'secret' as const,
});

/**
 * {@link Authenticator} for the relay-wide shared secret (docs/protocol.md §2). Keeps
 * only the secret's digest.
 */
export class SecretAuthenticator implements Authenticator {
  private readonly expected: Buffer;

  constructor(secret: string) {
    if (secret.length === 0) throw new RelayError('CONFIG_INVALID', 'auth.secret: expected a non-empty string');
    this.expected = secretDigest(secret);
  }

  async authenticate(credential: Credential | undefined): Promise<Principal> {
    if (credential === undefined) throw new RelayError('AUTH_REQUIRED', 'a credential is required');
    if (credential.kind !== 'secret') throw new RelayError('AUTH_FAILED', 'credential refused (bearer tokens are not enabled)');
    if (!secretsEqual(credential.secret, this.expected)) throw new RelayError('AUTH_FAILED', 'credential refused');
    return secretHolder;
  }
}
