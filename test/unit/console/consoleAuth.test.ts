import type { IncomingMessage } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { consoleCaller, credentialFromLoginField, csrfHeader, fromOtherSite, refuseCrossSite, requireConsoleRole } from '../../../src/console/consoleAuth.js';
import { consoleCookieName } from '../../../src/console/consoleCookie.js';
import type { ListenerContext } from '../../../src/listeners/listenerContext.js';
import { ConsoleLogins } from '../../../src/console/consoleLogins.js';
import { refusal } from '../../support/keys/jwtFixtures.js';
import { principal } from '../../support/harness/guardedHarness.js';

function post(headers: Record<string, string>): IncomingMessage {
  return { headers } as unknown as IncomingMessage;
}

const json = { 'content-type': 'application/json' };

describe('console authentication', () => {
  it('reads the login field as a JWT when it has the compact form, else as the relay secret', () => {
    expect(credentialFromLoginField('eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhIn0.c2ln')).toEqual({ kind: 'bearer', token: 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhIn0.c2ln' });
    expect(credentialFromLoginField('s3cret.with.dots and spaces')).toEqual({ kind: 'secret', secret: 's3cret.with.dots and spaces' });
  });

  it('lets engineers and administrators in, not an agent credential', async () => {
    expect(() => requireConsoleRole(principal('jwt:alice', ['attach:web-*']))).not.toThrow();
    expect(() => requireConsoleRole(principal('relay-secret', ['*']))).not.toThrow();
    await refusal(Promise.resolve().then(() => requireConsoleRole(principal('jwt:agent', ['register:web-*']))));
  });

  it('accepts a same-origin JSON action carrying the login CSRF token', () => {
    const login = new ConsoleLogins({ lifetimeMs: 60_000, maxLogins: 1, maxLoginsPerPrincipal: 10 }).create(principal('a'));
    expect(() => refuseCrossSite(post({ ...json, 'sec-fetch-site': 'same-origin', [csrfHeader]: login.csrfToken }), { principal: login.principal, login })).not.toThrow();
    // a script with an Authorization header (no cookie) needs no CSRF token
    expect(() => refuseCrossSite(post(json), { principal: login.principal })).not.toThrow();
  });

  it('refuses what another site could send: a form, a cross-site fetch, a cookie without the CSRF token', async () => {
    const login = new ConsoleLogins({ lifetimeMs: 60_000, maxLogins: 1, maxLoginsPerPrincipal: 10 }).create(principal('a'));
    const caller = { principal: login.principal, login };
    const check = (headers: Record<string, string>) => Promise.resolve().then(() => refuseCrossSite(post(headers), caller));
    await refusal(check({ 'content-type': 'application/x-www-form-urlencoded', [csrfHeader]: login.csrfToken }), 'BAD_REQUEST');
    await refusal(check({ 'content-type': 'text/plain' }), 'BAD_REQUEST');
    await refusal(check({ ...json, 'sec-fetch-site': 'cross-site', [csrfHeader]: login.csrfToken }));
    await refusal(check({ ...json, 'sec-fetch-site': 'same-origin' }));
    await refusal(check({ ...json, [csrfHeader]: 'forged' }));
  });
});

describe('console requests from other sites', () => {
  it("refuses every API request a browser says comes from another site, reads included; accepts the console's own and non-browsers", () => {
    expect(fromOtherSite(post({ 'sec-fetch-site': 'cross-site' }))).toBe(true);
    expect(fromOtherSite(post({ 'sec-fetch-site': 'same-site' }))).toBe(true);
    expect(fromOtherSite(post({ 'sec-fetch-site': 'same-origin' }))).toBe(false);
    expect(fromOtherSite(post({ 'sec-fetch-site': 'none' }))).toBe(false);
    expect(fromOtherSite(post({}))).toBe(false);
  });
});

describe('a login cookie', () => {
  const origin = { display: '192.0.2.1', address: '192.0.2.1' } as never;
  function request(cookie: string, fingerprint: string | undefined): IncomingMessage {
    const certificate = fingerprint === undefined ? {} : { raw: Buffer.from('der'), fingerprint256: fingerprint };
    return { headers: { cookie: `${consoleCookieName}=${cookie}` }, socket: { getPeerCertificate: () => certificate } } as unknown as IncomingMessage;
  }

  it('releases its connection from the caps before authentication, as any authentication does', async () => {
    const logins = new ConsoleLogins({ lifetimeMs: 60_000, maxLogins: 10, maxLoginsPerPrincipal: 10 });
    const login = logins.create(principal('relay-secret', ['*']));
    const authenticated = vi.fn();
    const context = { preAuth: { authenticated } } as unknown as ListenerContext;
    const caller = await consoleCaller(context, logins, request(login.id, undefined), origin);
    expect(caller.login?.id).toBe(login.id);
    expect(authenticated).toHaveBeenCalledTimes(1);
  });

  it('made with a client certificate counts only with that certificate', async () => {
    const logins = new ConsoleLogins({ lifetimeMs: 60_000, maxLogins: 10, maxLoginsPerPrincipal: 10 });
    const login = logins.create(principal('cert:ops', ['*']), 'AA:BB');
    const context = { preAuth: { authenticated: vi.fn() } } as unknown as ListenerContext;
    expect((await consoleCaller(context, logins, request(login.id, 'AA:BB'), origin)).login?.id).toBe(login.id);
    await refusal(consoleCaller(context, logins, request(login.id, undefined), origin), 'AUTH_REQUIRED');
    // another certificate: the cookie is ignored, and the certificate itself goes through the relay's authentication
    const authenticate = vi.fn(async () => principal('cert:other', ['attach:web-*']));
    const viaCertificate = { ...context, config: { listeners: { wss: { clientCertificates: 'optional' } } }, authGate: { authenticate } } as unknown as ListenerContext;
    const caller = await consoleCaller(viaCertificate, logins, request(login.id, 'CC:DD'), origin);
    expect(caller.principal.id).toBe('cert:other');
    expect(caller.login).toBeUndefined();
    expect(authenticate).toHaveBeenCalledTimes(1);
  });
});
