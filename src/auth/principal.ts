/** What a principal may do (design.md §4). */
export type Role = 'agent' | 'client' | 'admin';

/** An authenticated identity. Authorization decisions use it; logs may print `id`. */
export interface Principal {
  /** Stable identifier for logs and for binding session ids (never a credential). */
  readonly id: string;
  readonly roles: ReadonlySet<Role>;
  /** How the principal authenticated. */
  readonly method: 'secret' | 'jwt';
}

/** A credential as presented, before verification. */
export type Credential = { readonly kind: 'secret'; readonly secret: string } | { readonly kind: 'bearer'; readonly token: string };

/**
 * Verifies a credential. Throws `AUTH_REQUIRED` when there is none and `AUTH_FAILED`
 * when it is refused. Asynchronous so that JWT verification (a later issue) fits.
 */
export interface Authenticator {
  authenticate(credential: Credential | undefined): Promise<Principal>;
}
