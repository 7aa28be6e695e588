import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JwtAuthenticator } from '../../../src/auth/jwtAuthenticator.js';
import { issueToken } from '../../../src/auth/tokenIssuer.js';
import { decodeUnverified, formatInspection, notVerifiedWarning } from '../../../src/auth/tokenInspection.js';
import { registerTokenCommand } from '../../../src/cli/tokenCommand.js';
import { parseDurationSeconds } from '../../../src/common/durationText.js';
import { jwtConfigDefaults, type JwtConfig } from '../../../src/config/jwtConfigSchema.js';
import { audience, issuer, keyDir, publicJwk, publicPem, writeKey } from '../../support/keys/jwtFixtures.js';

function config(overrides: Partial<JwtConfig>): JwtConfig {
  return { ...jwtConfigDefaults, enabled: true, issuer, audience, maxLifetimeS: 3600, ...overrides } as JwtConfig;
}

/** Signing and verification config for each key form `token issue` reads. */
function keyForms(): Array<[string, JwtConfig]> {
  const dir = keyDir();
  const hsFile = writeKey(dir, 'hs.key', 'a-long-enough-hs256-secret-for-the-tests-0123456789\n');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsPrivate = writeKey(dir, 'rs.pem', rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const rsPublic = writeKey(dir, 'rs.pub.pem', publicPem(rsa.publicKey));
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const esPrivate = writeKey(dir, 'es.jwk', JSON.stringify({ ...ec.privateKey.export({ format: 'jwk' }), kid: 'es-2026' }));
  const esSet = writeKey(dir, 'jwks.json', JSON.stringify({ keys: [publicJwk(ec.publicKey, { kid: 'es-2026' })] }));
  const ed = generateKeyPairSync('ed25519');
  const edPrivate = writeKey(dir, 'ed.pem', ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  return [
    ['HS256 secret file', config({ algorithms: ['HS256'], keyFile: hsFile, signingKeyFile: hsFile })],
    ['RS256 PEM', config({ algorithms: ['RS256'], keyFile: rsPublic, signingKeyFile: rsPrivate })],
    ['ES256 private JWK with kid, verified by a JWKS', config({ algorithms: ['ES256'], jwksFile: esSet, signingKeyFile: esPrivate })],
    ['EdDSA PEM (private key also verifies)', config({ algorithms: ['EdDSA'], keyFile: edPrivate, signingKeyFile: edPrivate })],
  ];
}

describe('issueToken', () => {
  it.each(keyForms())('signs with %s a token the relay accepts', async (_name, jwt) => {
    const now = Date.now();
    const issued = await issueToken(jwt, { subject: 'alice', scopes: ['attach:web-*', 'admin'], ttlS: 900, now });
    const principal = await JwtAuthenticator.fromConfig(jwt).verify(issued.token, now);
    expect(principal).toMatchObject({ id: 'jwt:alice', grants: { attach: ['web-*'], admin: true, register: [] } });
    const { header, claims } = decodeUnverified(issued.token);
    expect(claims).toMatchObject({ iss: issuer, aud: audience, sub: 'alice', scope: 'attach:web-* admin', exp: (claims.iat as number) + 900, jti: issued.jti });
    expect(header.typ).toBe('JWT');
    if (jwt.jwksFile) expect(header.kid).toBe('es-2026');
    expect(issued.expiresAt.getTime()).toBe(((claims.iat as number) + 900) * 1000);
  });

  it('refuses a ttl over auth.jwt.maxLifetimeS, unknown or no scopes, a bad subject', async () => {
    const [, jwt] = keyForms()[3]!;
    await expect(issueToken(jwt, { subject: 'alice', scopes: ['attach:x'], ttlS: 3601 })).rejects.toThrow(/--ttl: 3601 s exceeds auth\.jwt\.maxLifetimeS \(3600 s\)/);
    await expect(issueToken(jwt, { subject: 'alice', scopes: ['atach:web-*'], ttlS: 60 })).rejects.toThrow(/is not admin, register:<pattern> or attach:<pattern>/);
    await expect(issueToken(jwt, { subject: 'alice', scopes: [], ttlS: 60 })).rejects.toThrow(/at least one scope/);
    await expect(issueToken(jwt, { subject: '', scopes: ['admin'], ttlS: 60 })).rejects.toThrow(/--sub/);
  });

  it('names the missing or unusable config key', async () => {
    await expect(issueToken(config({}), { subject: 'a', scopes: ['admin'], ttlS: 60 })).rejects.toThrow(/auth\.jwt\.signingKeyFile: required/);
    const [, jwt] = keyForms()[1]!;
    await expect(issueToken({ ...jwt, algorithms: ['ES256'] }, { subject: 'a', scopes: ['admin'], ttlS: 60 })).rejects.toThrow(/auth\.jwt\.signingKeyFile: the key is for RS256/);
    await expect(issueToken({ ...jwt, signingKeyFile: jwt.keyFile! }, { subject: 'a', scopes: ['admin'], ttlS: 60 })).rejects.toThrow(/holds no private key/);
  });
});

describe('token inspection', () => {
  it('says plainly that nothing is verified and shows header, claims and times', async () => {
    const [, jwt] = keyForms()[3]!;
    const now = Date.now();
    const { token } = await issueToken(jwt, { subject: 'bob', scopes: ['attach:db-1'], ttlS: 600, now });
    const text = formatInspection(decodeUnverified(token), now);
    expect(text.startsWith(notVerifiedWarning)).toBe(true);
    expect(text).toMatch(/NOT VERIFIED/);
    expect(text).toMatch(/subject\s+bob \(relay principal jwt:bob\)/);
    expect(text).toMatch(/scopes\s+attach:db-1/);
    expect(text).toMatch(/expires\s+\S+ \(in 10 min\)/);
    expect(formatInspection(decodeUnverified(token), now + 700_000)).toMatch(/This token has expired\./);
  });

  it('replaces control characters from a crafted token and refuses non-JWTs without quoting them', () => {
    const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const crafted = `${b64({ alg: 'none' })}.${b64({ sub: 'evil\u001b[2J\u009b', exp: 1 })}.`;
    const text = formatInspection(decodeUnverified(crafted));
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no terminal escape may reach the output
    expect(text).not.toMatch(/[\u001b\u009b]/);
    expect(() => decodeUnverified('secret-looking-garbage')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    expect(() => decodeUnverified('secret-looking-garbage')).not.toThrow(/garbage/);
  });
});

describe('dbgrelay token (commander)', () => {
  afterEach(() => vi.restoreAllMocks());

  async function run(args: string[]): Promise<{ stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
    const program = new Command().exitOverride();
    registerTokenCommand(program);
    await program.parseAsync(['node', 'dbgrelay', ...args]);
    vi.restoreAllMocks();
    return { stdout, stderr };
  }

  it('issue prints the token alone on stdout; inspect decodes it without verifying', async () => {
    const dir = keyDir();
    const ed = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, 'sign.pem'), ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    writeFileSync(
      join(dir, 'relay.yaml'),
      [
        `dataDir: ${dir}/data`,
        'auth:',
        '  jwt:',
        '    enabled: true',
        '    algorithms: [EdDSA]',
        `    issuer: ${issuer}`,
        `    audience: ${audience}`,
        '    keyFile: sign.pem',
        '    signingKeyFile: sign.pem',
        '',
      ].join('\n'),
    );
    const issued = await run(['token', 'issue', '--sub', 'alice', '--scope', 'attach:web-*', '--scope', 'admin', '--ttl', '15m', '--config', join(dir, 'relay.yaml')]);
    const lines = issued.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(issued.stderr).toMatch(/EdDSA token for jwt:alice \(attach:web-\* admin\)/);
    expect(issued.stderr).not.toContain(lines[0]!);

    const inspected = await run(['token', 'inspect', lines[0]!]);
    expect(inspected.stdout).toMatch(/^NOT VERIFIED/);
    expect(inspected.stdout).toContain('"scope": "attach:web-* admin"');
    const json = JSON.parse((await run(['token', 'inspect', '--json', lines[0]!])).stdout);
    expect(json).toMatchObject({ verified: false, header: { alg: 'EdDSA' }, claims: { sub: 'alice', iss: issuer } });
  });
});

describe('parseDurationSeconds', () => {
  it('reads s, m, h, d and bare seconds, and refuses anything else', () => {
    expect(['90', '90s', '15m', '2h', '1d'].map((text) => parseDurationSeconds(text, '--ttl'))).toEqual([90, 90, 900, 7200, 86400]);
    for (const bad of ['0', '-5m', '15 min', '1w', '', '1.5h']) expect(() => parseDurationSeconds(bad, '--ttl')).toThrow(/--ttl/);
  });
});
