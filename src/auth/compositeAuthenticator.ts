import { RelayError } from '../common/relayError.js';
import type { Authenticator, Credential, Principal } from './principal.js';

/** The authenticators a {@link CompositeAuthenticator} chooses from. */
export interface CompositeParts {
  /** Verifies shared secrets (and any other non-bearer credential). */
  readonly secret: Authenticator;
  /** Verifies bearer tokens; undefined when `auth.jwt.enabled` is false. */
  readonly bearer?: Authenticator;
}

/**
 * Sends each credential to the authenticator for its kind (docs/protocol.md §2):
 * `Bearer` tokens to the JWT authenticator, secrets to the secret authenticator. No
 * credential is `AUTH_REQUIRED`; a bearer token while JWTs are disabled is `AUTH_FAILED`.
 */
export class CompositeAuthenticator implements Authenticator {
  constructor(private readonly parts: CompositeParts) {}

  async authenticate(credential: Credential | undefined): Promise<Principal> {
    if (credential === undefined) throw new RelayError('AUTH_REQUIRED', 'a credential is required');
    if (credential.kind === 'bearer') {
      if (!this.parts.bearer) throw new RelayError('AUTH_FAILED', 'credential refused (bearer tokens are not enabled)');
      return this.parts.bearer.authenticate(credential);
    }
    return this.parts.secret.authenticate(credential);
  }
}
