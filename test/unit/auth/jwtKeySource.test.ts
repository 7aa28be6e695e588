import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { JwtAuthenticator } from '../../../src/auth/jwtAuthenticator.js';
import { jwtKeySourceFromConfig } from '../../../src/auth/jwtKeySource.js';
import { jwtConfigDefaults, jwksUrlProblem, type JwtConfig } from '../../../src/config/jwtConfigSchema.js';
import { loadConfig } from '../../../src/config/loadConfig.js';
import { audience, generateTestKey, issuer, keyDir, publicJwk, publicPem, refusal, signToken, writeKey } from '../../support/keys/jwtFixtures.js';

function jwtConfig(overrides: Partial<JwtConfig>): JwtConfig {
  return { ...jwtConfigDefaults, enabled: true, issuer, audience, ...overrides } as JwtConfig;
}

describe('JWKS file', () => {
  it('picks the key by kid and refuses an unknown kid', async () => {
    const es = generateTestKey('ES256');
    const ed = generateTestKey('EdDSA');
    const file = writeKey(keyDir(), 'jwks.json', JSON.stringify({ keys: [publicJwk(es.verifying, { kid: 'es' }), publicJwk(ed.verifying, { kid: 'ed' })] }));
    const auth = JwtAuthenticator.fromConfig(jwtConfig({ jwksFile: file }));
    expect((await auth.verify(await signToken(es, { header: { kid: 'es' } }))).id).toBe('jwt:alice');
    expect((await auth.verify(await signToken(ed, { header: { kid: 'ed' } }))).id).toBe('jwt:alice');
    expect(await refusal(auth.verify(await signToken(es, { header: { kid: 'gone' } })))).toBe('no key matches the token (unknown kid)');
    // A key of the set used under the other key's kid fails the signature check.
    expect(await refusal(auth.verify(await signToken(generateTestKey('ES256'), { header: { kid: 'es' } })))).toBe('token signature is invalid');
  });

  it('refuses a key set holding private or secret keys, and one with no keys', () => {
    const dir = keyDir();
    const es = generateTestKey('ES256');
    const privateJwk = (es.signing as import('node:crypto').KeyObject).export({ format: 'jwk' });
    expect(() => jwtKeySourceFromConfig(jwtConfig({ jwksFile: writeKey(dir, 'p.json', JSON.stringify({ keys: [privateJwk] })) }))).toThrow(/public keys only/);
    expect(() => jwtKeySourceFromConfig(jwtConfig({ jwksFile: writeKey(dir, 'e.json', '{"keys":[]}') }))).toThrow(/auth\.jwt\.jwksFile: .* is not a JWKS/);
  });

  it('refuses a key file whose algorithm auth.jwt.algorithms does not list', () => {
    const file = writeKey(keyDir(), 'rs.pem', publicPem(generateTestKey('RS256').verifying));
    expect(() => jwtKeySourceFromConfig(jwtConfig({ keyFile: file, algorithms: ['ES256'] }))).toThrow(
      /auth\.jwt\.keyFile: the key is for RS256, which auth\.jwt\.algorithms does not list/,
    );
  });
});

describe('JWKS URL (loopback http server)', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  /** Serves `body()` as the JWKS; counts requests. */
  async function serveJwks(body: () => string | undefined): Promise<{ url: string; requests: () => number }> {
    let requests = 0;
    server = createServer((_req, res) => {
      requests += 1;
      const text = body();
      if (text === undefined) return; // never answer: a timeout
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(text);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`, requests: () => requests };
  }

  it('fetches once, caches, and refetches when an unknown kid appears (key rotation)', async () => {
    const first = generateTestKey('RS256');
    const second = generateTestKey('ES256');
    const keys = [publicJwk(first.verifying, { kid: 'k1' })];
    const jwks = await serveJwks(() => JSON.stringify({ keys }));
    const auth = JwtAuthenticator.fromConfig(jwtConfig({ jwksUrl: jwks.url, jwksCooldownMs: 0 }));
    expect((await auth.verify(await signToken(first, { header: { kid: 'k1' } }))).id).toBe('jwt:alice');
    expect((await auth.verify(await signToken(first, { header: { kid: 'k1' } }))).id).toBe('jwt:alice');
    expect(jwks.requests()).toBe(1);
    keys.push(publicJwk(second.verifying, { kid: 'k2' }));
    expect((await auth.verify(await signToken(second, { header: { kid: 'k2' } }))).id).toBe('jwt:alice');
    expect(jwks.requests()).toBe(2);
    expect(await refusal(auth.verify(await signToken(second, { header: { kid: 'k3' } })))).toBe('no key matches the token (unknown kid)');
  });

  it('does not refetch for an unknown kid within the cooldown', async () => {
    const rs = generateTestKey('RS256');
    const jwks = await serveJwks(() => JSON.stringify({ keys: [publicJwk(rs.verifying, { kid: 'k1' })] }));
    const auth = JwtAuthenticator.fromConfig(jwtConfig({ jwksUrl: jwks.url, jwksCooldownMs: 60_000 }));
    await auth.verify(await signToken(rs, { header: { kid: 'k1' } }));
    expect(await refusal(auth.verify(await signToken(rs, { header: { kid: 'other' } })))).toMatch(/unknown kid/);
    expect(jwks.requests()).toBe(1);
  });

  it('refuses with AUTH_FAILED when the key set does not answer within the timeout', async () => {
    const rs = generateTestKey('RS256');
    const jwks = await serveJwks(() => undefined);
    const lines: unknown[] = [];
    const logger = { warn: (fields: unknown) => lines.push(fields) } as unknown as import('../../../src/log/logger.js').Logger;
    const auth = JwtAuthenticator.fromConfig(jwtConfig({ jwksUrl: jwks.url, jwksTimeoutMs: 200 }), logger);
    const started = Date.now();
    expect(await refusal(auth.verify(await signToken(rs)))).toBe('the relay could not fetch its key set in time; try again');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(JSON.stringify(lines)).toMatch(/ERR_JWKS_TIMEOUT/);
  });

  it('refuses when the key set answer is oversized or not a key set', async () => {
    const rs = generateTestKey('RS256');
    let body = JSON.stringify({ keys: [], pad: 'x'.repeat(600 * 1024) });
    const jwks = await serveJwks(() => body);
    const auth = JwtAuthenticator.fromConfig(jwtConfig({ jwksUrl: jwks.url, jwksCooldownMs: 0, jwksCacheMaxAgeMs: 1_000 }));
    expect(await refusal(auth.verify(await signToken(rs)))).toBe('the relay could not fetch its key set; try again');
    body = '{"not":"a key set"}';
    expect(await refusal(auth.verify(await signToken(rs)))).toBe('the relay could not fetch its key set; try again');
  });
});

describe('auth.jwt configuration', () => {
  const base = { dataDir: keyDir() };
  const load = (jwt: Record<string, unknown>) => () => loadConfig({ env: {}, overrides: { ...base, auth: { jwt } } });

  it('requires issuer, audience and a key source when enabled, naming each key', () => {
    expect(load({ enabled: true })).toThrow(/auth\.jwt\.keyFile: one of .*required.*auth\.jwt\.issuer: required.*auth\.jwt\.audience: required/);
    expect(load({ enabled: false })).not.toThrow();
  });

  it('refuses two key sources, a non-https JWKS URL, HS256 with a key set, unknown algorithms', () => {
    const ok = { enabled: true, issuer, audience };
    expect(load({ ...ok, keyFile: '/k', jwksUrl: 'https://idp.test/jwks' })).toThrow(/auth\.jwt\.jwksUrl: give only one/);
    expect(load({ ...ok, jwksUrl: 'http://idp.test/jwks' })).toThrow(/auth\.jwt\.jwksUrl: must be https/);
    expect(load({ ...ok, jwksUrl: 'https://idp.test/jwks', algorithms: ['HS256'] })).toThrow(/auth\.jwt\.algorithms: HS256 cannot be used with auth\.jwt\.jwksUrl/);
    expect(load({ ...ok, keyFile: '/k', algorithms: ['none'] })).toThrow(/auth\.jwt\.algorithms\.0: expected one of/);
    expect(load({ ...ok, keyFile: '/k', maxTokenBytes: 100_000 })).toThrow(/auth\.jwt\.maxTokenBytes/);
    expect(load({ ...ok, keyFile: '/k', algorithms: [] })).toThrow(/auth\.jwt\.algorithms/);
  });

  it('accepts https anywhere and http only on loopback for the JWKS URL', () => {
    expect(jwksUrlProblem('https://idp.example.com/.well-known/jwks.json')).toBeUndefined();
    expect(jwksUrlProblem('http://127.0.0.1:8080/jwks')).toBeUndefined();
    expect(jwksUrlProblem('http://[::1]:8080/jwks')).toBeUndefined();
    expect(jwksUrlProblem('http://localhost/jwks')).toBeUndefined();
    expect(jwksUrlProblem('http://10.0.0.1/jwks')).toMatch(/https/);
    expect(jwksUrlProblem('https://user:pw@idp/jwks')).toMatch(/credentials/);
    expect(jwksUrlProblem('file:///etc/jwks')).toMatch(/https/);
  });

  it('binds DBGRELAY_JWT_* variables and resolves key paths', () => {
    const config = loadConfig({
      env: { DBGRELAY_JWT_ENABLED: 'true', DBGRELAY_JWT_ISSUER: issuer, DBGRELAY_JWT_AUDIENCE: audience, DBGRELAY_JWT_KEY_FILE: 'keys/pub.pem' },
      overrides: base,
      cwd: '/srv/relay',
    });
    expect(config.auth.jwt).toMatchObject({ enabled: true, issuer, audience, keyFile: '/srv/relay/keys/pub.pem', maxLifetimeS: 86_400, clockToleranceS: 30, maxTokenBytes: 4096 });
  });
});
