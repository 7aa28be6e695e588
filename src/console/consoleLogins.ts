import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../auth/principal.js';

/** One browser login: what its cookie stands for. */
export interface ConsoleLogin {
  /** The cookie's value: 32 random bytes, base64url. Never logged. */
  readonly id: string;
  readonly principal: Principal;
  /** Sent back in `X-Dbgrelay-Csrf` with every action (read by the page from `/console/api/me`). */
  readonly csrfToken: string;
  /** Epoch ms after which the login is gone. */
  readonly expiresAt: number;
  /**
   * SHA-256 fingerprint of the client certificate the browser presented when it logged
   * in: the cookie then counts only with that certificate, so a copied cookie does not
   * work from another machine where certificates are required.
   */
  readonly certificateFingerprint?: string;
}

/** Bounds of {@link ConsoleLogins} (config `console.loginLifetimeMs`, `console.maxLogins`, `console.maxLoginsPerPrincipal`). */
export interface ConsoleLoginBounds {
  readonly lifetimeMs: number;
  readonly maxLogins: number;
  readonly maxLoginsPerPrincipal: number;
}

function token(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The web console's logins, held in memory (a restart logs everyone out): at most
 * `maxLogins`, the oldest dropped first, and at most `maxLoginsPerPrincipal` of one
 * principal, whose own oldest goes first (so one engineer logging in again and again
 * cannot push the administrators out); each lasts `lifetimeMs`, or until its
 * credential expires if that is sooner (a JWT's `exp`).
 */
export class ConsoleLogins {
  // Insertion order is age order: the first entry is the oldest login.
  private readonly logins = new Map<string, ConsoleLogin>();

  constructor(
    private readonly bounds: ConsoleLoginBounds,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts a login for `principal`, bound to the client certificate with `certificateFingerprint` when one was presented. */
  create(principal: Principal, certificateFingerprint?: string): ConsoleLogin {
    const own = [...this.logins.values()].filter((login) => login.principal.id === principal.id);
    for (const login of own.slice(0, Math.max(0, own.length - this.bounds.maxLoginsPerPrincipal + 1))) this.logins.delete(login.id);
    while (this.logins.size >= this.bounds.maxLogins) {
      const oldest = this.logins.keys().next().value;
      if (oldest === undefined) break;
      this.logins.delete(oldest);
    }
    const expiresAt = Math.min(this.now() + this.bounds.lifetimeMs, principal.expiresAt ?? Number.POSITIVE_INFINITY);
    const login: ConsoleLogin = { id: token(), principal, csrfToken: token(), expiresAt, ...(certificateFingerprint !== undefined ? { certificateFingerprint } : {}) };
    this.logins.set(login.id, login);
    return login;
  }

  /** The login a cookie names, undefined when unknown or expired (an expired one is forgotten). */
  find(id: string): ConsoleLogin | undefined {
    const login = this.logins.get(id);
    if (login && this.now() >= login.expiresAt) {
      this.logins.delete(id);
      return undefined;
    }
    return login;
  }

  /** Ends a login (logout). */
  remove(id: string): void {
    this.logins.delete(id);
  }

  /** Ends every login: the relay's credentials changed (a reload), so what a cookie stood for may no longer hold. */
  clear(): void {
    this.logins.clear();
  }

  /** Logins held now (expired ones not yet looked up included). */
  get size(): number {
    return this.logins.size;
  }
}

/** True when `presented` is `login`'s CSRF token, compared in constant time. */
export function csrfTokenMatches(login: ConsoleLogin, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const expected = Buffer.from(login.csrfToken);
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
