import { randomBytes } from 'node:crypto';
import { RelayError } from '../common/relayError.js';
import type { Grants } from './grants.js';
import type { Authenticator, Credential, Principal } from './principal.js';
import { secretDigest, secretsEqual } from './secretAuthenticator.js';

/**
 * A target's attach secret (ptvsd's `enable_attach(secret=...)`, docs/protocol.md §2.2),
 * as the relay keeps it: only the SHA-256 digest. The agent sends the secret in its
 * `register` message; the relay turns it into this object at once and drops the
 * clear value.
 */
export class AttachSecret {
  private constructor(private readonly digest: Buffer) {}

  /** Digests `secret`; the clear value is not kept. */
  static fromSecret(secret: string): AttachSecret {
    return new AttachSecret(secretDigest(secret));
  }

  /** Constant-time comparison of a presented secret with this one. */
  matches(presented: string): boolean {
    return secretsEqual(presented, this.digest);
  }

  /** Never shows the secret or its digest. */
  toJSON(): string {
    return '[attach secret]';
  }
}

/**
 * Compared against when a target has no attach secret, so that a refusal takes the
 * same time whether or not the target exists or has one (nothing to learn by timing).
 */
const unmatchable = AttachSecret.fromSecret(randomBytes(32).toString('base64url'));

/** Grants of a target's attach secret: attach to that target and nothing else. */
export function attachSecretGrants(target: string): Grants {
  return Object.freeze({ register: Object.freeze([]), attach: Object.freeze([target]), admin: false });
}

/** The principal of a client that presented `target`'s attach secret. */
export function attachSecretPrincipal(target: string): Principal {
  return Object.freeze({ id: `attach-secret:${target}`, grants: attachSecretGrants(target), method: 'attachSecret' as const });
}

/** Finds the attach secret of a connected target (undefined: none, or no such target). */
export type AttachSecretLookup = (target: string) => AttachSecret | undefined;

/**
 * Authenticates a client that asks to attach to `target` (docs/protocol.md §2): the
 * relay-wide credentials of `authenticator` first (relay secret, JWT, ...); when
 * those refuse a *secret* credential with `AUTH_FAILED`, the target's attach secret.
 * A match yields {@link attachSecretPrincipal}, which may attach to `target` only.
 * Otherwise the original refusal stands, the same whether the target is unknown,
 * has no attach secret, or has another one.
 */
export async function authenticateForAttach(
  authenticator: Authenticator,
  credential: Credential | undefined,
  target: string,
  lookup: AttachSecretLookup,
): Promise<Principal> {
  try {
    return await authenticator.authenticate(credential);
  } catch (error) {
    if (credential?.kind !== 'secret' || !(error instanceof RelayError) || error.code !== 'AUTH_FAILED') throw error;
    const attachSecret = lookup(target);
    const matched = (attachSecret ?? unmatchable).matches(credential.secret);
    if (attachSecret !== undefined && matched) return attachSecretPrincipal(target);
    throw error;
  }
}
