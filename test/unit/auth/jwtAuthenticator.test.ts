import { createHmac, generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { requireTargetGrant } from '../../../src/auth/grants.js';
import { JwtAuthenticator, scopesFromClaims } from '../../../src/auth/jwtAuthenticator.js';
import { loadKeyFile } from '../../../src/auth/jwtKeys.js';
import { jwtAlgorithms } from '../../../src/config/jwtConfigSchema.js';
import { authenticatorFor, generateTestKey, keyDir, publicJwk, publicPem, refusal, signToken, testPolicy, writeKey } from '../../support/keys/jwtFixtures.js';

const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('JwtAuthenticator: algorithms and key forms', () => {
  it.each(jwtAlgorithms)('accepts a valid %s token and builds the principal from sub, scope and exp', async (algorithm) => {
    const pair = generateTestKey(algorithm);
    const now = Date.now();
    const token = await signToken(pair, { now, claims: { scope: 'attach:web-* admin' } });
    const principal = await authenticatorFor(pair).authenticate({ kind: 'bearer', token });
    expect(principal).toMatchObject({ id: 'jwt:alice', method: 'jwt', grants: { attach: ['web-*'], register: [], admin: true } });
    // exp (now + 600 s) plus the 30 s clock tolerance.
    expect(principal.expiresAt).toBe((Math.floor(now / 1000) + 600 + 30) * 1000);
  });

  it('reads keys from a public JWK, an oct JWK, a certificate-less private PEM and checks a JWK alg', async () => {
    const dir = keyDir();
    const es = generateTestKey('ES256');
    const jwkFile = writeKey(dir, 'es.jwk', JSON.stringify(publicJwk(es.verifying, { kid: 'es-1', alg: 'ES256' })));
    const loaded = loadKeyFile(jwkFile, 'auth.jwt.keyFile', 'public');
    expect([loaded.algorithm, loaded.kid]).toEqual(['ES256', 'es-1']);
    const viaJwk = new JwtAuthenticator({ kind: 'key', key: loaded }, testPolicy);
    expect((await viaJwk.verify(await signToken(es, { header: { kid: 'es-1' } }))).id).toBe('jwt:alice');
    // A token naming another kid than the single configured JWK is refused.
    expect(await refusal(viaJwk.verify(await signToken(es, { header: { kid: 'es-2' } })))).toMatch(/unknown kid/);

    const hs = generateTestKey('HS256');
    const octFile = writeKey(dir, 'hs.jwk', JSON.stringify({ kty: 'oct', k: Buffer.from(hs.verifying as Uint8Array).toString('base64url') }));
    const viaOct = new JwtAuthenticator({ kind: 'key', key: loadKeyFile(octFile, 'auth.jwt.keyFile', 'public') }, testPolicy);
    expect((await viaOct.verify(await signToken(hs))).id).toBe('jwt:alice');

    const ed = generateKeyPairSync('ed25519');
    const privateFile = writeKey(dir, 'ed.pem', ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    expect(loadKeyFile(privateFile, 'auth.jwt.keyFile', 'public').key.type).toBe('public');

    const mislabelled = writeKey(dir, 'bad.jwk', JSON.stringify(publicJwk(es.verifying, { alg: 'RS256' })));
    expect(() => loadKeyFile(mislabelled, 'auth.jwt.keyFile', 'public')).toThrow(/declares alg "RS256" but the key is for ES256/);
  });

  it('refuses weak or unsupported keys at load time, naming the config key', () => {
    const dir = keyDir();
    expect(() => loadKeyFile(writeKey(dir, 'short', 'too-short-secret'), 'auth.jwt.keyFile', 'public')).toThrow(/auth\.jwt\.keyFile: an HS256 key must be at least 32 bytes/);
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(() => loadKeyFile(writeKey(dir, 'rsa1024.pem', publicPem(rsa1024)), 'auth.jwt.keyFile', 'public')).toThrow(/at least 2048 bits/);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
    expect(() => loadKeyFile(writeKey(dir, 'p384.pem', publicPem(p384)), 'auth.jwt.keyFile', 'public')).toThrow(/P-256/);
    expect(() => loadKeyFile(writeKey(dir, 'set.json', '{"keys":[]}'), 'auth.jwt.keyFile', 'public')).toThrow(/use auth\.jwt\.jwksFile/);
    expect(() => loadKeyFile(writeKey(dir, 'pub.pem', publicPem(p384)), 'auth.jwt.signingKeyFile', 'private')).toThrow(/holds no private key/);
    expect(() => loadKeyFile(`${dir}/missing`, 'auth.jwt.keyFile', 'public')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('JwtAuthenticator: refusals', () => {
  const rs = generateTestKey('RS256');
  const auth = authenticatorFor(rs);

  it('refuses alg "none"', async () => {
    const token = `${b64({ alg: 'none' })}.${b64({ iss: testPolicy.issuer, aud: testPolicy.audience, sub: 'alice', exp: Math.floor(Date.now() / 1000) + 60 })}.`;
    expect(await refusal(auth.verify(token))).toMatch(/algorithm/);
  });

  it('refuses an HS256 token signed with the RSA public key (algorithm confusion), even with HS256 allowed', async () => {
    const pem = publicPem(rs.verifying);
    const forged = await new SignJWT({ iss: testPolicy.issuer, aud: testPolicy.audience, sub: 'mallory', scope: 'attach:*' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(pem));
    expect(await refusal(auth.verify(forged))).toBe('token algorithm ("alg") is not allowed');
  });

  it('refuses a token with a critical extension it does not know, saying so rather than blaming the algorithm', async () => {
    const hs = generateTestKey('HS256');
    const claims = { iss: testPolicy.issuer, aud: testPolicy.audience, sub: 'alice', exp: Math.floor(Date.now() / 1000) + 60 };
    const signingInput = `${b64({ alg: 'HS256', crit: ['urn:example:must-understand'], 'urn:example:must-understand': true })}.${b64(claims)}`;
    const signature = createHmac('sha256', hs.signing as Uint8Array)
      .update(signingInput)
      .digest('base64url');
    const message = await refusal(authenticatorFor(hs).verify(`${signingInput}.${signature}`));
    expect(message).toBe('token header marks an extension the relay does not support as critical ("crit")');
    expect(message).not.toContain('urn:example');
  });

  it('refuses a token whose algorithm is not on the allow-list', async () => {
    const es = generateTestKey('ES256');
    const onlyRs = authenticatorFor(es, { algorithms: ['RS256'] });
    expect(await refusal(onlyRs.verify(await signToken(es)))).toMatch(/algorithm/);
  });

  it('refuses expired, not-yet-valid, future-iat, wrong aud and wrong iss tokens', async () => {
    const now = Date.now();
    const nowS = Math.floor(now / 1000);
    expect(await refusal(auth.verify(await signToken(rs, { claims: { iat: nowS - 700, exp: nowS - 100 } })))).toBe('token expired');
    expect(await refusal(auth.verify(await signToken(rs, { claims: { nbf: nowS + 300 } })))).toMatch(/not yet valid/);
    expect(await refusal(auth.verify(await signToken(rs, { claims: { iat: nowS + 300, exp: nowS + 600 } })))).toMatch(/iat|future/);
    expect(await refusal(auth.verify(await signToken(rs, { claims: { aud: 'someone-else' } })))).toMatch(/audience/);
    expect(await refusal(auth.verify(await signToken(rs, { claims: { iss: 'https://evil.test' } })))).toMatch(/issuer/);
  });

  it('refuses a tampered payload and a signature by another key', async () => {
    const token = await signToken(rs);
    const [header, , signature] = token.split('.');
    const tampered = `${header}.${b64({ iss: testPolicy.issuer, aud: testPolicy.audience, sub: 'alice', scope: 'attach:* admin', exp: Math.floor(Date.now() / 1000) + 600 })}.${signature}`;
    expect(await refusal(auth.verify(tampered))).toBe('token signature is invalid');
    expect(await refusal(auth.verify(await signToken(generateTestKey('RS256'))))).toBe('token signature is invalid');
  });

  it('requires sub, exp, iss and aud', async () => {
    for (const claim of ['sub', 'exp', 'iss', 'aud']) {
      expect(await refusal(auth.verify(await signToken(rs, { omit: [claim] })))).toMatch(
        new RegExp(`"${claim}"|${claim === 'iss' ? 'issuer' : claim === 'aud' ? 'audience' : claim}`),
      );
    }
    expect(await refusal(auth.verify(await signToken(rs, { claims: { sub: 'bad\u0007sub' } })))).toMatch(/"sub"/);
  });

  it('refuses an oversized token before parsing it, and a malformed one', async () => {
    const small = authenticatorFor(rs, { maxTokenBytes: 300 });
    const token = await signToken(rs);
    expect(token.length).toBeGreaterThan(300);
    expect(await refusal(small.verify(token))).toBe('bearer token exceeds 300 bytes');
    expect(await refusal(small.verify('x'.repeat(5000)))).toBe('bearer token exceeds 300 bytes');
    expect(await refusal(auth.verify('not a token'))).toMatch(/malformed/);
    expect(await refusal(auth.verify('a.b.c'))).toMatch(/malformed/);
  });

  it('refuses a lifetime over the maximum, with iat (exp - iat) and without (exp - now)', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    expect(await refusal(auth.verify(await signToken(rs, { claims: { iat: nowS - 10, exp: nowS + 3600 } })))).toMatch(/lifetime exceeds/);
    expect(await refusal(auth.verify(await signToken(rs, { omit: ['iat'], claims: { exp: nowS + 3700 } })))).toMatch(/lifetime exceeds/);
    expect((await auth.verify(await signToken(rs, { omit: ['iat'], claims: { exp: nowS + 3000 } }))).id).toBe('jwt:alice');
    expect((await auth.verify(await signToken(rs, { claims: { iat: nowS, exp: nowS + 3600 } }))).id).toBe('jwt:alice');
  });

  it('applies the clock tolerance to exp and nbf', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    const justExpired = await signToken(rs, { claims: { iat: nowS - 600, exp: nowS - 10 } });
    expect((await auth.verify(justExpired)).id).toBe('jwt:alice');
    expect(await refusal(authenticatorFor(rs, { clockToleranceS: 0 }).verify(justExpired))).toBe('token expired');
    expect(await refusal(auth.verify(await signToken(rs, { claims: { iat: nowS - 600, exp: nowS - 40 } })))).toBe('token expired');
    expect((await auth.verify(await signToken(rs, { claims: { nbf: nowS + 20 } }))).id).toBe('jwt:alice');
  });

  it('refuses a secret credential and requires one at all', async () => {
    expect(await refusal(auth.authenticate({ kind: 'secret', secret: 'x' }))).toBe('expected a bearer token');
    expect(await refusal(auth.authenticate(undefined), 'AUTH_REQUIRED')).toBeTruthy();
  });

  it('never quotes the token in a refusal', async () => {
    const token = await signToken(rs, { claims: { aud: 'other' } });
    const message = await refusal(auth.verify(token));
    expect(message).not.toContain(token.split('.')[1]!.slice(0, 20));
    // jose's claim errors carry the payload: the refusal must not keep them as its cause.
    const error = (await auth.verify(token).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(error.cause).toBeUndefined();
  });
});

describe('scopes and authorization of JWT principals', () => {
  it('merges scope and scp and refuses malformed claims', () => {
    expect(scopesFromClaims({ scope: 'attach:a  register:b', scp: ['admin'] })).toEqual(['attach:a', 'register:b', 'admin']);
    expect(scopesFromClaims({ scp: 'attach:x attach:y' })).toEqual(['attach:x', 'attach:y']);
    expect(() => scopesFromClaims({ scope: 7 })).toThrow(/"scope" is malformed/);
    expect(() => scopesFromClaims({ scp: ['ok', 1] })).toThrow(/"scp" is malformed/);
  });

  it('a client token attaches to matching targets only and cannot register; an agent token cannot attach', async () => {
    const ed = generateTestKey('EdDSA');
    const auth = authenticatorFor(ed);
    const client = await auth.verify(await signToken(ed, { claims: { scope: 'attach:web-*' } }));
    expect(() => requireTargetGrant(client, 'client', 'web-1')).not.toThrow();
    expect(() => requireTargetGrant(client, 'client', 'db-1')).toThrow(expect.objectContaining({ code: 'AUTH_FAILED' }));
    expect(() => requireTargetGrant(client, 'agent', 'web-1')).toThrow(/register/);
    const agent = await auth.verify(await signToken(ed, { claims: { sub: 'web-agent', scope: 'register:web-*' } }));
    expect(agent.id).toBe('jwt:web-agent');
    expect(() => requireTargetGrant(agent, 'agent', 'web-1')).not.toThrow();
    expect(() => requireTargetGrant(agent, 'client', 'web-1')).toThrow(/attach/);
    // After exp (+ tolerance) the principal opens nothing new.
    expect(() => requireTargetGrant(client, 'client', 'web-1', client.expiresAt!)).toThrow(/expired/);
  });

  it('a malformed attach scope refuses the token', async () => {
    const ed = generateTestKey('EdDSA');
    expect(await refusal(authenticatorFor(ed).verify(await signToken(ed, { claims: { scope: 'attach:' } })))).toMatch(/scope/);
  });
});
