import type { Grants } from '../protocol/scopes.js';

/** What a principal may do. */
export type Role = 'agent' | 'client' | 'admin';

/** How a principal authenticated. */
export type AuthMethod = 'secret' | 'attachSecret' | 'jwt' | 'certificate';

/** An authenticated identity. Authorization decisions use it; logs may print `id`. */
export interface Principal {
  /** Stable identifier for logs and for binding session ids (never a credential). */
  readonly id: string;
  /** What the credential allows: roles and the target patterns per role. */
  readonly grants: Grants;
  /** How the principal authenticated. */
  readonly method: AuthMethod;
  /**
   * When the credential stops opening new sessions (epoch ms), e.g. a JWT's `exp`;
   * undefined when it does not expire. Checked for every session, never used to end
   * a running one.
   */
  readonly expiresAt?: number;
}

/** A credential as presented, before verification. */
export type Credential = { readonly kind: 'secret'; readonly secret: string } | { readonly kind: 'bearer'; readonly token: string };

/**
 * Verifies a credential. Throws `AUTH_REQUIRED` when there is none and `AUTH_FAILED`
 * when it is refused.
 */
export interface Authenticator {
  authenticate(credential: Credential | undefined): Promise<Principal>;
}
