import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, createLeaf } from '../../src/certs/certificateFactory.js';
import { consoleCookieName } from '../../src/console/consoleCookie.js';
import { audience, generateTestKey, issuer, keyDir, publicPem, signToken, writeKey } from '../support/keys/jwtFixtures.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { httpsCall, type HttpsAnswer } from '../support/relay/relayPeers.js';

/**
 * The web console's HTTP API against the real relay (no browser, no debuggee): what
 * it answers without a credential, the login cookie, the CSRF and same-origin checks,
 * the 403 for an engineer's action, the page's files and headers, `console.enabled:
 * false`, and that no credential reaches the log or the audit log.
 */
const keys = generateTestKey('EdDSA');
let relay: E2eRelay;
let ca: string;

beforeAll(async () => {
  const keyFile = writeKey(keyDir(), 'idp.pub.pem', publicPem(keys.verifying));
  relay = await startE2eRelay({
    overrides: {
      auth: { jwt: { enabled: true, algorithms: ['EdDSA'], issuer, audience, keyFile, maxLifetimeS: 3600, clockToleranceS: 5 } },
      console: { loginLifetimeMs: 120_000 },
    },
  });
  ca = readFileSync(relay.caFile, 'utf8');
}, 30_000);

afterAll(async () => {
  await relay?.stop();
});

function call(method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<HttpsAnswer> {
  const json = body === undefined ? {} : { 'Content-Type': 'application/json' };
  return httpsCall(relay.handle.wssAddress!, path, ca, { method, headers: { ...json, ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

function errorCode(answer: HttpsAnswer): string {
  return (JSON.parse(answer.text) as { error: { code: string } }).error.code;
}

async function loginCookie(credential: string): Promise<{ cookie: string; csrf: string }> {
  const login = await call('POST', '/console/api/login', {}, { credential });
  expect(login.status).toBe(200);
  const cookie = login.headers['set-cookie']![0]!.split(';')[0]!;
  const me = JSON.parse((await call('GET', '/console/api/me', { Cookie: cookie })).text) as { csrfToken: string };
  return { cookie, csrf: me.csrfToken };
}

describe('web console API', () => {
  it('asks for a login without a credential, with no browser password prompt and nothing cached', async () => {
    const answer = await call('GET', '/console/api/me');
    expect(answer.status).toBe(401);
    expect(errorCode(answer)).toBe('AUTH_REQUIRED');
    expect(answer.headers['www-authenticate']).toBeUndefined();
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.headers['content-security-policy']).toContain("default-src 'self'");
  });

  it('serves its page and files with a strict policy, and nothing else from the disk', async () => {
    expect((await call('GET', '/console')).status).toBe(308);
    const page = await call('GET', '/console/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self';.*frame-ancestors 'none'/);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.text).not.toMatch(/<script>|style=/); // no inline script or style
    expect((await call('GET', '/console/console.js')).headers['content-type']).toMatch(/^text\/javascript/);
    for (const path of ['/console/../package.json', '/console/%2e%2e/package.json', '/console/web/console/index.html', '/console/api/nothing']) {
      const answer = await call('GET', path, { Authorization: `Basic ${Buffer.from(`${relay.secret}:`).toString('base64')}` });
      expect([answer.status, path]).toEqual([404, path]);
    }
  });

  it('exchanges the relay secret for an HttpOnly, Secure, SameSite=Strict cookie of bounded lifetime, and never records the secret', async () => {
    const wrong = await call('POST', '/console/api/login', {}, { credential: 'wrong-secret-value' });
    expect(wrong.status).toBe(401);
    const login = await call('POST', '/console/api/login', {}, { credential: relay.secret });
    expect(login.status).toBe(200);
    const cookie = login.headers['set-cookie']![0]!;
    expect(cookie).toMatch(new RegExp(`^${consoleCookieName}=[A-Za-z0-9_-]{43}; Max-Age=120; Path=/; Secure; HttpOnly; SameSite=Strict$`));
    const me = JSON.parse((await call('GET', '/console/api/me', { Cookie: cookie.split(';')[0]! })).text) as Record<string, unknown>;
    expect(me).toMatchObject({ principal: 'relay-secret', method: 'secret', admin: true, csrfToken: expect.any(String) });
    const audit = readFileSync(join(relay.dataDir, 'audit.log'), 'utf8');
    expect(audit).toContain('"event":"console.login"');
    for (const text of [audit, relay.logText()]) {
      expect(text).not.toContain(relay.secret);
      expect(text).not.toContain('wrong-secret-value');
    }
    // logout forgets the login
    const session = cookie.split(';')[0]!;
    const csrf = me['csrfToken'] as string;
    expect((await call('POST', '/console/api/logout', { Cookie: session, 'X-Dbgrelay-Csrf': csrf }, {})).status).toBe(200);
    expect((await call('GET', '/console/api/me', { Cookie: session })).status).toBe(401);
  });

  it('takes an action on the cookie only with the CSRF token, from the same origin, as JSON', async () => {
    const { cookie, csrf } = await loginCookie(relay.secret);
    const end = '/console/api/sessions/0123456789ab/end';
    expect((await call('POST', end, { Cookie: cookie }, {})).status).toBe(403);
    expect((await call('POST', end, { Cookie: cookie, 'X-Dbgrelay-Csrf': csrf, 'Sec-Fetch-Site': 'cross-site' }, {})).status).toBe(403);
    const form = await httpsCall(relay.handle.wssAddress!, end, ca, {
      method: 'POST',
      headers: { Cookie: cookie, 'X-Dbgrelay-Csrf': csrf, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    expect(form.status).toBe(400);
    const allowed = await call('POST', end, { Cookie: cookie, 'X-Dbgrelay-Csrf': csrf, 'Sec-Fetch-Site': 'same-origin' }, {});
    expect([allowed.status, errorCode(allowed)]).toEqual([404, 'UNKNOWN_SESSION']); // past every check: no such session
  });

  it('answers no API request, reading ones included, that a browser says comes from another site, whatever the credential', async () => {
    const { cookie } = await loginCookie(relay.secret);
    const basic = { Authorization: `Basic ${Buffer.from(`${relay.secret}:`).toString('base64')}` };
    for (const site of ['cross-site', 'same-site']) {
      for (const view of ['me', 'targets', 'sessions', 'audit']) {
        const refused = await call('GET', `/console/api/${view}`, { Cookie: cookie, 'Sec-Fetch-Site': site });
        expect([refused.status, errorCode(refused), view, site]).toEqual([403, 'AUTH_FAILED', view, site]);
      }
      expect((await call('GET', '/console/api/me', { ...basic, 'Sec-Fetch-Site': site })).status).toBe(403);
      expect((await call('POST', '/console/api/login', { 'Sec-Fetch-Site': site }, { credential: relay.secret })).status).toBe(403);
    }
    for (const site of ['same-origin', 'none']) expect((await call('GET', '/console/api/me', { Cookie: cookie, 'Sec-Fetch-Site': site })).status).toBe(200);
    expect((await call('GET', '/console/', { 'Sec-Fetch-Site': 'cross-site' })).status).toBe(200); // a link to the page itself is fine
  });

  it("shows an engineer the views and refuses the engineer's actions with 403; an agent credential cannot log in", async () => {
    const engineer = await signToken(keys, { claims: { sub: 'alice', scope: 'attach:web-*' } });
    const bearer = { Authorization: `Bearer ${engineer}` };
    for (const view of ['me', 'targets', 'sessions', 'audit']) expect((await call('GET', `/console/api/${view}`, bearer)).status).toBe(200);
    const me = JSON.parse((await call('GET', '/console/api/me', bearer)).text) as Record<string, unknown>;
    expect(me).toEqual({ principal: 'jwt:alice', method: 'jwt', admin: false });
    for (const action of ['end', 'resume']) {
      const refused = await call('POST', `/console/api/sessions/0123456789ab/${action}`, bearer, {});
      expect([refused.status, errorCode(refused)]).toEqual([403, 'AUTH_FAILED']);
    }
    const agent = await signToken(keys, { claims: { sub: 'agent-1', scope: 'register:web-*' } });
    expect((await call('POST', '/console/api/login', {}, { credential: agent })).status).toBe(401);
  });

  it('is not served with console.enabled: false', async () => {
    const off = await startE2eRelay({ overrides: { console: { enabled: false } } });
    try {
      const answer = await httpsCall(off.handle.wssAddress!, '/console/', readFileSync(off.caFile, 'utf8'));
      expect([answer.status, errorCode(answer)]).toEqual([404, 'NOT_FOUND']);
    } finally {
      await off.stop();
    }
  });
});

describe('web console API with client certificates', () => {
  const clientCa = createCa('console test client CA');
  const ops = createLeaf(clientCa, 'ops', { client: true });
  let mtls: E2eRelay;
  let mtlsCa: string;

  beforeAll(async () => {
    const clientCaFile = writeKey(keyDir(), 'client-ca.pem', clientCa.certPem);
    mtls = await startE2eRelay({
      overrides: {
        listeners: { wss: { port: 0, clientCertificates: 'optional' }, tcps: { port: 0 } },
        tls: { clientCaFile },
        auth: { certificates: { sufficient: true, grants: [{ cn: 'ops', scopes: ['admin'] }] } },
      },
    });
    mtlsCa = readFileSync(mtls.caFile, 'utf8');
  }, 30_000);

  afterAll(async () => {
    await mtls?.stop();
  });

  it('lets in a browser that presents a granted certificate, with no login; without one it asks for a login', async () => {
    const address = mtls.handle.wssAddress!;
    const me = await httpsCall(address, '/console/api/me', mtlsCa, { cert: ops.certPem, key: ops.keyPem });
    expect([me.status, JSON.parse(me.text)]).toEqual([200, { principal: 'cert:ops', method: 'certificate', admin: true }]);
    const anonymous = await httpsCall(address, '/console/api/me', mtlsCa);
    expect([anonymous.status, errorCode(anonymous)]).toEqual([401, 'AUTH_REQUIRED']);
  });

  it('binds a login made with a client certificate to that certificate: the cookie alone, or with another certificate, is not the login', async () => {
    const address = mtls.handle.wssAddress!;
    const other = createLeaf(clientCa, 'someone-else', { client: true });
    const withOps = { cert: ops.certPem, key: ops.keyPem };
    const login = await httpsCall(address, '/console/api/login', mtlsCa, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ credential: mtls.secret }),
      ...withOps,
    });
    expect(login.status).toBe(200);
    const cookie = { Cookie: login.headers['set-cookie']![0]!.split(';')[0]! };
    const me = await httpsCall(address, '/console/api/me', mtlsCa, { headers: cookie, ...withOps });
    expect(JSON.parse(me.text)).toMatchObject({ principal: 'cert:ops', csrfToken: expect.any(String) });
    const alone = await httpsCall(address, '/console/api/me', mtlsCa, { headers: cookie });
    expect([alone.status, errorCode(alone)]).toEqual([401, 'AUTH_REQUIRED']);
    const elsewhere = await httpsCall(address, '/console/api/me', mtlsCa, { headers: cookie, cert: other.certPem, key: other.keyPem });
    expect(elsewhere.status).toBe(401); // its own certificate has no grant, and the cookie does not count
  });
});

describe('web console logins and connections', () => {
  let small: E2eRelay;
  let smallCa: string;

  beforeAll(async () => {
    small = await startE2eRelay({ overrides: { limits: { maxUnauthenticatedPerSource: 2 } } });
    smallCa = readFileSync(small.caFile, 'utf8');
  }, 30_000);

  afterAll(async () => {
    await small?.stop();
  });

  async function smallLogin(): Promise<string> {
    const login = await httpsCall(small.handle.wssAddress!, '/console/api/login', smallCa, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ credential: small.secret }),
    });
    expect(login.status).toBe(200);
    return login.headers['set-cookie']![0]!.split(';')[0]!;
  }

  it('a page polling on its cookie over kept-alive connections does not hold the slots before authentication', async () => {
    const cookie = await smallLogin();
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 2, ca: smallCa, servername: 'localhost' });
    const { host, port } = small.handle.wssAddress!;
    const poll = (agent: Agent = keepAlive): Promise<number> =>
      new Promise((resolve, reject) => {
        const request = httpsRequest({ host, port, path: '/console/api/sessions', headers: { Cookie: cookie }, agent }, (answer) => {
          answer.resume();
          answer.on('end', () => resolve(answer.statusCode ?? 0));
        });
        request.on('error', reject);
        request.end();
      });
    try {
      for (let round = 0; round < 3; round++) expect(await Promise.all([poll(), poll()])).toEqual([200, 200]);
      expect(Object.values(keepAlive.freeSockets).flat()).toHaveLength(2); // both connections stay open
      // A third connection from the same source (an agent, a client) is still let in.
      const third = new Agent({ keepAlive: false, ca: smallCa, servername: 'localhost' });
      expect(await poll(third)).toBe(200);
    } finally {
      keepAlive.destroy();
    }
  });

  it('a reload that changes the credentials ends every login: the old cookie gets 401', async () => {
    const cookie = await smallLogin();
    const me = () => httpsCall(small.handle.wssAddress!, '/console/api/me', smallCa, { headers: { Cookie: cookie } });
    expect((await me()).status).toBe(200);
    writeFileSync(join(small.dataDir, 'secret'), `rotated-${Date.now()}-console-secret\n`, { mode: 0o600 });
    expect(small.handle.reload(small.handle.config)).toMatchObject({ secretChanged: true });
    const after = await me();
    expect([after.status, errorCode(after)]).toEqual([401, 'AUTH_REQUIRED']);
  });
});
