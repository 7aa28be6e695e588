import type { Authenticator, Credential, Principal } from './principal.js';

/**
 * An {@link Authenticator} whose implementation can be swapped while the relay runs
 * (a configuration reload with a new secret or new JWT keys). Listeners hold this one
 * object and consult it for every connection, so a swap applies to the next
 * authentication; sessions already authenticated are not touched.
 */
export class AuthenticatorHolder implements Authenticator {
  constructor(private current: Authenticator) {}

  /** Makes `next` verify every credential from now on. */
  set(next: Authenticator): void {
    this.current = next;
  }

  authenticate(credential: Credential | undefined): Promise<Principal> {
    return this.current.authenticate(credential);
  }
}
