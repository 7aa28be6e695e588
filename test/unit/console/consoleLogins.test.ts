import { describe, expect, it } from 'vitest';
import { ConsoleLogins, csrfTokenMatches } from '../../../src/console/consoleLogins.js';
import { consoleCookieName, consoleCookieValue, loginCookie } from '../../../src/console/consoleCookie.js';
import { principal } from '../../support/harness/guardedHarness.js';

describe('ConsoleLogins', () => {
  it('keeps a login for its lifetime, or until the credential expires if sooner', () => {
    let now = 1_000_000;
    const logins = new ConsoleLogins({ lifetimeMs: 60_000, maxLogins: 10, maxLoginsPerPrincipal: 10 }, () => now);
    const alice = logins.create(principal('jwt:alice'));
    const bob = logins.create({ ...principal('jwt:bob'), expiresAt: now + 5_000 });
    expect(alice.expiresAt).toBe(now + 60_000);
    expect(bob.expiresAt).toBe(now + 5_000);
    now += 5_000;
    expect(logins.find(bob.id)).toBeUndefined();
    expect(logins.find(alice.id)?.principal.id).toBe('jwt:alice');
    now += 55_000;
    expect(logins.find(alice.id)).toBeUndefined();
    expect(logins.size).toBe(0);
  });

  it('holds at most maxLogins, dropping the oldest, and forgets a login on logout', () => {
    const logins = new ConsoleLogins({ lifetimeMs: 60_000, maxLogins: 2, maxLoginsPerPrincipal: 10 });
    const [first, second, third] = ['a', 'b', 'c'].map((id) => logins.create(principal(id)));
    expect(logins.size).toBe(2);
    expect(logins.find(first!.id)).toBeUndefined();
    expect(logins.find(second!.id)).toBeDefined();
    logins.remove(third!.id);
    expect(logins.find(third!.id)).toBeUndefined();
  });

  it('holds at most maxLoginsPerPrincipal of one principal, dropping its own oldest, so it cannot push others out', () => {
    const logins = new ConsoleLogins({ lifetimeMs: 60_000, maxLogins: 4, maxLoginsPerPrincipal: 2 });
    const admin = logins.create(principal('relay-secret'));
    const flood = Array.from({ length: 10 }, () => logins.create(principal('jwt:mallory')));
    expect(logins.find(admin.id)?.principal.id).toBe('relay-secret');
    expect(logins.size).toBe(3);
    expect(flood.slice(0, 8).map((login) => logins.find(login.id))).toEqual(Array(8).fill(undefined));
    expect(logins.find(flood[9]!.id)).toBeDefined();
  });

  it('ends every login at once (the relay reloaded its credentials), and keeps the certificate a login was made with', () => {
    const logins = new ConsoleLogins({ lifetimeMs: 60_000, maxLogins: 10, maxLoginsPerPrincipal: 10 });
    const withCertificate = logins.create(principal('cert:ops'), 'AB:CD');
    expect(withCertificate.certificateFingerprint).toBe('AB:CD');
    logins.create(principal('a'));
    logins.clear();
    expect(logins.size).toBe(0);
    expect(logins.find(withCertificate.id)).toBeUndefined();
  });

  it('gives every login its own unguessable id and CSRF token, compared exactly', () => {
    const logins = new ConsoleLogins({ lifetimeMs: 60_000, maxLogins: 10, maxLoginsPerPrincipal: 10 });
    const one = logins.create(principal('a'));
    const two = logins.create(principal('a'));
    expect(one.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set([one.id, two.id, one.csrfToken, two.csrfToken]).size).toBe(4);
    expect(csrfTokenMatches(one, one.csrfToken)).toBe(true);
    expect(csrfTokenMatches(one, two.csrfToken)).toBe(false);
    expect(csrfTokenMatches(one, one.csrfToken.slice(1))).toBe(false);
    expect(csrfTokenMatches(one, undefined)).toBe(false);
  });
});

describe('the console cookie', () => {
  it('is HttpOnly, Secure, SameSite=Strict, host-only, and lasts the login', () => {
    expect(loginCookie('v', 90_500)).toBe(`${consoleCookieName}=v; Max-Age=91; Path=/; Secure; HttpOnly; SameSite=Strict`);
    expect(consoleCookieName.startsWith('__Host-')).toBe(true);
  });

  it('is read from a Cookie header among others', () => {
    expect(consoleCookieValue({ cookie: `theme=dark; ${consoleCookieName}=abc=; other=1` })).toBe('abc=');
    expect(consoleCookieValue({ cookie: 'theme=dark' })).toBeUndefined();
    expect(consoleCookieValue({})).toBeUndefined();
  });
});
