import { randomBytes } from 'node:crypto';
import { RelayError } from '../common/relayError.js';
import type { AttachGuessTable } from './attachGuessTable.js';
import type { Grants } from '../protocol/scopes.js';
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

  /**
   * The digest as hex, for the store shared by several relay instances (so that an
   * instance can check a secret for a target whose agent is connected to another).
   */
  sharedForm(): string {
    return this.digest.toString('hex');
  }

  /** The attach secret whose {@link sharedForm} is `hex`; undefined for anything else. */
  static fromSharedForm(hex: string): AttachSecret | undefined {
    return /^[0-9a-f]{64}$/.test(hex) ? new AttachSecret(Buffer.from(hex, 'hex')) : undefined;
  }

  /** Never shows the secret or its digest. */
  toJSON(): string {
    return '[attach secret]';
  }
}

/** How the agent's documentation and errors tell people to make a good attach secret. */
export const attachSecretRecipe = "python -c 'import secrets; print(secrets.token_urlsafe(24))'";

/**
 * Refuses (`BAD_REQUEST`) an attach secret shorter than `minLength` characters, as the
 * relay does for a `register` that sets one. The message gives the length, never the secret.
 */
export function requireAttachSecretLength(secret: string, minLength: number): void {
  if (secret.length >= minLength) return;
  throw new RelayError(
    'BAD_REQUEST',
    `attach secret too short: ${secret.length} characters, at least ${minLength} are required so that it cannot be guessed; make one with ${attachSecretRecipe}`,
  );
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

/** The principal of a client that presented `target`'s attach secret (`matched`: that secret). */
export function attachSecretPrincipal(target: string, matched?: AttachSecret): Principal {
  const principal: Principal = Object.freeze({ id: `attach-secret:${target}`, grants: attachSecretGrants(target), method: 'attachSecret' as const });
  if (matched) matchedSecrets.set(principal, matched);
  return principal;
}

/**
 * The attach secret an attach-secret principal was authenticated with, kept beside the
 * principal rather than in it, so that no log or audit record that shows a principal
 * can show the secret's digest.
 */
const matchedSecrets = new WeakMap<Principal, AttachSecret>();

/** The attach secret `principal` was authenticated with (undefined for any other principal). */
export function matchedAttachSecret(principal: Principal): AttachSecret | undefined {
  return matchedSecrets.get(principal);
}

/** `derived` (e.g. combined with a client certificate) was authenticated with the same attach secret as `from`. */
export function keepMatchedAttachSecret(from: Principal, derived: Principal): Principal {
  const matched = matchedSecrets.get(from);
  if (matched) matchedSecrets.set(derived, matched);
  return derived;
}

/** Finds the attach secret of a connected target (undefined: none, or no such target). */
export type AttachSecretLookup = (target: string) => AttachSecret | undefined | Promise<AttachSecret | undefined>;

/**
 * Per-target guess limiting around one attach-secret comparison (see
 * {@link AttachGuessTable}; the relay's `AuthGate.attachGuard` makes one per attempt).
 */
export interface AttachGuard {
  /** Throws `AUTH_LOCKED` when guesses on the target are refused now, before any comparison. */
  check(): void;
  /** The presented secret was compared and did not match. */
  failed(): void;
  /** The presented secret matched. */
  matched(): void;
}

/**
 * Authenticates a client that asks to attach to `target` (docs/protocol.md §2): the
 * relay-wide credentials of `authenticator` first (relay secret, JWT, ...); when
 * those refuse a *secret* credential with `AUTH_FAILED`, the target's attach secret.
 * A match yields {@link attachSecretPrincipal}, which may attach to `target` only.
 * Otherwise the original refusal stands, the same whether the target is unknown,
 * has no attach secret, or has another one. With `guard`, a target closed to
 * guesses refuses the secret with `AUTH_LOCKED` before comparing it (the caller counts
 * that refusal against the source, as a guess), and every comparison is counted for
 * the target; relay-wide credentials never meet the guard.
 */
export async function authenticateForAttach(
  authenticator: Authenticator,
  credential: Credential | undefined,
  target: string,
  lookup: AttachSecretLookup,
  guard?: AttachGuard,
): Promise<Principal> {
  try {
    return await authenticator.authenticate(credential);
  } catch (error) {
    if (credential?.kind !== 'secret' || !(error instanceof RelayError) || error.code !== 'AUTH_FAILED') throw error;
    guard?.check();
    const attachSecret = await lookup(target);
    const matched = (attachSecret ?? unmatchable).matches(credential.secret);
    if (attachSecret !== undefined && matched) {
      guard?.matched();
      return attachSecretPrincipal(target, attachSecret);
    }
    guard?.failed();
    throw error;
  }
}
