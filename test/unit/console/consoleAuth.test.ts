import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { credentialFromLoginField, csrfHeader, refuseCrossSite, requireConsoleRole } from '../../../src/console/consoleAuth.js';
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
    const login = new ConsoleLogins({ lifetimeMs: 60_000, maxLogins: 1 }).create(principal('a'));
    expect(() => refuseCrossSite(post({ ...json, 'sec-fetch-site': 'same-origin', [csrfHeader]: login.csrfToken }), { principal: login.principal, login })).not.toThrow();
    // a script with an Authorization header (no cookie) needs no CSRF token
    expect(() => refuseCrossSite(post(json), { principal: login.principal })).not.toThrow();
  });

  it('refuses what another site could send: a form, a cross-site fetch, a cookie without the CSRF token', async () => {
    const login = new ConsoleLogins({ lifetimeMs: 60_000, maxLogins: 1 }).create(principal('a'));
    const caller = { principal: login.principal, login };
    const check = (headers: Record<string, string>) => Promise.resolve().then(() => refuseCrossSite(post(headers), caller));
    await refusal(check({ 'content-type': 'application/x-www-form-urlencoded', [csrfHeader]: login.csrfToken }), 'BAD_REQUEST');
    await refusal(check({ 'content-type': 'text/plain' }), 'BAD_REQUEST');
    await refusal(check({ ...json, 'sec-fetch-site': 'cross-site', [csrfHeader]: login.csrfToken }));
    await refusal(check({ ...json, 'sec-fetch-site': 'same-origin' }));
    await refusal(check({ ...json, [csrfHeader]: 'forged' }));
  });
});
