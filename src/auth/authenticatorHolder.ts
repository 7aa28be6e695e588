import type { Authenticator, Credential, Principal } from './principal.js';

/**
 * An {@link Authenticator} whose implementation can be swapped while the relay runs
 * (a configuration reload with a new secret or new JWT keys). Listeners hold this one
 * object and consult it for every connection, so a swap applies to the next
 * authentication; sessions already authenticated are not touched.
 */
export class AuthenticatorHolder implements Authenticator {
  private readonly swapListeners: Array<() => void> = [];

  constructor(private current: Authenticator) {}

  /** Makes `next` verify every credential from now on, and tells those listening ({@link onSwap}). */
  set(next: Authenticator): void {
    this.current = next;
    for (const listener of this.swapListeners) listener();
  }

  /** Calls `listener` after every swap: what was derived from an earlier authentication (a console login) ends there. */
  onSwap(listener: () => void): void {
    this.swapListeners.push(listener);
  }

  authenticate(credential: Credential | undefined): Promise<Principal> {
    return this.current.authenticate(credential);
  }
}
