import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AttachGuessTable } from '../../../src/auth/attachGuessTable.js';
import { AttachSecret, authenticateForAttach } from '../../../src/auth/attachSecret.js';
import { AuthGate, combinePrincipals, type AuthAttempt } from '../../../src/auth/authGate.js';
import { CertificateAuthenticator, type PresentedCertificate } from '../../../src/auth/clientCertificate.js';
import { grantsFromScopes } from '../../../src/protocol/scopes.js';
import { LockoutTable } from '../../../src/auth/lockoutTable.js';
import type { Credential, Principal } from '../../../src/auth/principal.js';
import { SecretAuthenticator } from '../../../src/auth/secretAuthenticator.js';
import { isRelayError } from '../../../src/common/relayError.js';
import { createLogger, tagged } from '../../../src/log/logger.js';
import { RelayMetrics } from '../../../src/metrics/relayMetrics.js';

const secret = 'correct-horse-battery-staple';
const secretAuthenticator = new SecretAuthenticator(secret);

function certificate(cn: string, verified = true): PresentedCertificate {
  return {
    verified,
    ...(verified ? {} : { verifyError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }),
    commonNames: [cn],
    fingerprint: 'sha256:' + '0'.repeat(64),
    notAfter: Date.now() + 3_600_000,
  };
}

function setup(options: { sufficient?: boolean; threshold?: number; maxEntries?: number } = {}) {
  let now = 5_000_000;
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const lockout = new LockoutTable({ threshold: options.threshold ?? 3, windowMs: 60_000, baseMs: 30_000, maxMs: 600_000, maxEntries: options.maxEntries ?? 1_000 }, () => now);
  const attachGuesses = new AttachGuessTable({ threshold: 5, windowMs: 60_000, baseMs: 5_000, maxMs: 60_000, maxTargets: 1_000, trustedSourceMs: 3_600_000 }, () => now);
  const metrics = new RelayMetrics(
    () => lockout.lockedSources(),
    () => attachGuesses.closedTargets(),
  );
  const gate = new AuthGate({
    lockout,
    attachGuesses,
    certificates: new CertificateAuthenticator([
      { cn: 'alice', scopes: ['attach:web-*'] },
      { cn: 'agent-*', scopes: ['register:web-*'] },
    ]),
    certificatesSufficient: options.sufficient ?? false,
    metrics: metrics.auth,
    logger: tagged(createLogger({ level: 'debug' }, stream).logger, 'auth'),
  });
  let reads = 0;
  const attempt = (fields: Partial<AuthAttempt> & { credential?: Credential }): Promise<Principal> =>
    gate.authenticate({
      source: '10.1.1.1',
      where: { via: 'tcps', remote: '10.1.1.1:5555', endpoint: 'attach' },
      mode: 'off',
      certificate: undefined,
      readCredential: () => {
        reads++;
        return fields.credential;
      },
      verifyCredential: (credential) => secretAuthenticator.authenticate(credential),
      ...fields,
    });
  return { gate, metrics, lockout, attempt, logText: () => lines.join(''), reads: () => reads, advance: (ms: number) => (now += ms) };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    return isRelayError(error) ? error.code : String(error);
  }
}

const good: Credential = { kind: 'secret', secret };
const wrong: Credential = { kind: 'secret', secret: 'guess-1' };

describe('AuthGate lockout', () => {
  it('locks a source after repeated failures and refuses it before reading its credential, even a correct one', async () => {
    const { attempt, reads, metrics, logText, advance } = setup();
    for (let i = 0; i < 3; i++) expect(await codeOf(attempt({ credential: wrong }))).toBe('AUTH_FAILED');
    const readsBefore = reads();
    expect(await codeOf(attempt({ credential: good }))).toBe('AUTH_LOCKED');
    expect(reads()).toBe(readsBefore);
    // Another source is not affected.
    expect(await codeOf(attempt({ credential: good, source: '10.1.1.2' }))).toBe('OK');
    // A success from elsewhere unlocks nothing; the lock runs out by itself.
    expect(await codeOf(attempt({ credential: good }))).toBe('AUTH_LOCKED');
    advance(30_000);
    expect(await codeOf(attempt({ credential: good }))).toBe('OK');

    expect(await metrics.valueOf('dbgrelay_auth_failures_total', { reason: 'AUTH_FAILED' })).toBe(3);
    expect(await metrics.valueOf('dbgrelay_auth_failures_total', { reason: 'AUTH_LOCKED' })).toBe(2);
    expect(await metrics.valueOf('dbgrelay_auth_lockouts_total')).toBe(1);
    expect(await metrics.valueOf('dbgrelay_auth_locked_sources')).toBe(0);
    const text = logText();
    expect(text).toContain('"tag":"auth"');
    expect(text).toContain('source locked out');
    expect(text).toContain('"source":"10.1.1.1"');
    expect(text).not.toContain('guess-1');
    expect(text).not.toContain(secret);
  });

  it('reports the locked sources in the gauge while they are locked', async () => {
    const { attempt, metrics } = setup({ threshold: 1 });
    await codeOf(attempt({ credential: wrong, source: '10.0.0.1' }));
    await codeOf(attempt({ credential: wrong, source: '10.0.0.2' }));
    expect(await metrics.valueOf('dbgrelay_auth_locked_sources')).toBe(2);
    expect(await metrics.valueOf('dbgrelay_auth_lockouts_total')).toBe(2);
  });

  it('does not count a missing credential toward a lockout (it guesses nothing)', async () => {
    const { attempt, metrics } = setup({ threshold: 1 });
    expect(await codeOf(attempt({}))).toBe('AUTH_REQUIRED');
    expect(await codeOf(attempt({}))).toBe('AUTH_REQUIRED');
    expect(await metrics.valueOf('dbgrelay_auth_failures_total', { reason: 'AUTH_REQUIRED' })).toBe(2);
    expect(await metrics.valueOf('dbgrelay_auth_lockouts_total')).toBe(0);
    expect(await codeOf(attempt({ credential: good }))).toBe('OK');
  });

  it('counts failures per identity (a JWT sub, never the token) across sources', async () => {
    const { attempt, logText } = setup();
    const payload = Buffer.from(JSON.stringify({ sub: 'alice' })).toString('base64url');
    const forged: Credential = { kind: 'bearer', token: `eyJhbGciOiJIUzI1NiJ9.${payload}.c2lnbmF0dXJl` };
    for (const source of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) expect(await codeOf(attempt({ credential: forged, source }))).toBe('AUTH_FAILED');
    expect(await codeOf(attempt({ credential: forged, source: '10.0.0.9' }))).toBe('AUTH_FAILED');
    // The fourth source failed once, on an identity under attack: locked at once.
    expect(await codeOf(attempt({ credential: good, source: '10.0.0.9' }))).toBe('AUTH_LOCKED');
    // A source that did not fail is not locked.
    expect(await codeOf(attempt({ credential: good, source: '10.0.0.10' }))).toBe('OK');
    expect(logText()).toContain('"identity":"jwt:alice"');
    expect(logText()).toContain('identity under attack');
    expect(logText()).not.toContain('c2lnbmF0dXJl');
  });
});

describe('AuthGate when the lockout table is full of locked sources', () => {
  it('lets a correct credential from a new source in, counts the failure, and locks only the failing network', async () => {
    const { attempt, metrics, logText, lockout } = setup({ threshold: 1, maxEntries: 2 });
    expect(await codeOf(attempt({ credential: wrong, source: '10.0.0.1' }))).toBe('AUTH_FAILED');
    expect(await codeOf(attempt({ credential: wrong, source: '10.0.0.2' }))).toBe('AUTH_FAILED');
    expect(await metrics.valueOf('dbgrelay_auth_lockout_table_full_total')).toBe(0);
    // No room for a third source: a correct credential from it still gets in.
    expect(await codeOf(attempt({ credential: good, source: '10.0.0.3' }))).toBe('OK');
    expect(await codeOf(attempt({ credential: wrong, source: '10.0.0.3' }))).toBe('AUTH_FAILED');
    expect(await metrics.valueOf('dbgrelay_auth_lockout_table_full_total')).toBe(1);
    expect(lockout.size).toBe(2);
    // Its failure is counted for its /24 (threshold 1 here): that network's untracked sources are locked out...
    expect(await codeOf(attempt({ credential: good, source: '10.0.0.4' }))).toBe('AUTH_LOCKED');
    expect(logText()).toContain('"because":"network"');
    // ...nobody else new is, and the locked sources stay locked.
    expect(await codeOf(attempt({ credential: good, source: '192.0.2.4' }))).toBe('OK');
    expect(await codeOf(attempt({ credential: good, source: '10.0.0.1' }))).toBe('AUTH_LOCKED');
  });

  it('refuses the sources no table can take once the network table is full of locked networks too', async () => {
    const { attempt, logText } = setup({ threshold: 1, maxEntries: 2 });
    for (const source of ['10.0.0.1', '10.0.0.2']) expect(await codeOf(attempt({ credential: wrong, source }))).toBe('AUTH_FAILED');
    // The network table holds 16 networks: one failure each (threshold 1) locks them all.
    for (let n = 0; n < 16; n++) expect(await codeOf(attempt({ credential: wrong, source: `10.1.${n}.1` }))).toBe('AUTH_FAILED');
    expect(await codeOf(attempt({ credential: good, source: '192.0.2.4' }))).toBe('OK');
    expect(await codeOf(attempt({ credential: wrong, source: '192.0.2.4' }))).toBe('AUTH_FAILED');
    expect(logText()).toContain('"because":"overflow"');
    // Guessing from a fresh network is no longer free.
    expect(await codeOf(attempt({ credential: good, source: '198.51.100.9' }))).toBe('AUTH_LOCKED');
  });

  it('lets everyone in whose network did not fail, through a made-up identity under attack', async () => {
    const { attempt, metrics } = setup({ maxEntries: 100 });
    const payload = Buffer.from(JSON.stringify({ sub: 'made-up' })).toString('base64url');
    const forged: Credential = { kind: 'bearer', token: `eyJhbGciOiJIUzI1NiJ9.${payload}.c2lnbmF0dXJl` };
    for (let s = 0; s < 150; s++) expect(await codeOf(attempt({ credential: forged, source: `10.${s}.0.1` }))).toBe('AUTH_FAILED');
    expect(await metrics.valueOf('dbgrelay_auth_lockout_table_full_total')).toBeGreaterThan(0);
    expect(await codeOf(attempt({ credential: good, source: '192.0.2.1' }))).toBe('OK');
    expect(await codeOf(attempt({ credential: good, source: '10.149.0.1' }))).toBe('OK');
  });
});

describe('AuthGate attach-secret guesses per target', () => {
  const attachSecret = 'web-1-attach-secret-0123';
  const secrets = new Map([['web-1', AttachSecret.fromSecret(attachSecret)]]);

  function attachAttempt(gate: AuthGate, attempt: ReturnType<typeof setup>['attempt'], credential: Credential, source: string): Promise<Principal> {
    return attempt({
      credential,
      source,
      verifyCredential: (presented) => authenticateForAttach(secretAuthenticator, presented, 'web-1', (name) => secrets.get(name), gate.attachGuard('web-1', source)),
    });
  }

  it('closes a target after failures from many sources; the relay secret and earlier good sources still get in', async () => {
    const { gate, attempt, metrics, logText, advance } = setup();
    expect((await attachAttempt(gate, attempt, { kind: 'secret', secret: attachSecret }, '10.9.0.1')).id).toBe('attach-secret:web-1');
    // Five sources, one guess each: no source reaches its own threshold (3)...
    for (let i = 0; i < 5; i++) expect(await codeOf(attachAttempt(gate, attempt, { kind: 'secret', secret: `guess-${i}` }, `198.51.100.${i}`))).toBe('AUTH_FAILED');
    // ...but the target did: a sixth source is refused even with the right secret, before any comparison.
    expect(await codeOf(attachAttempt(gate, attempt, { kind: 'secret', secret: attachSecret }, '198.51.100.77'))).toBe('AUTH_LOCKED');
    expect(await codeOf(attachAttempt(gate, attempt, { kind: 'secret', secret: secret }, '198.51.100.77'))).toBe('OK');
    expect(await codeOf(attachAttempt(gate, attempt, { kind: 'secret', secret: attachSecret }, '10.9.0.1'))).toBe('OK');
    expect(await metrics.valueOf('dbgrelay_auth_attach_closings_total')).toBe(1);
    expect(await metrics.valueOf('dbgrelay_auth_attach_closed_targets')).toBe(1);
    expect(await metrics.valueOf('dbgrelay_auth_failures_total', { reason: 'AUTH_LOCKED' })).toBe(1);
    // The refused attempt counts against its source (1 of 3): not locked yet.
    expect(await metrics.valueOf('dbgrelay_auth_lockouts_total')).toBe(0);
    const lines = logText()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'target closed to attach-secret guesses', target: 'web-1', closedForMs: 5_000 }));
    // A refusal of a closed target is logged at debug level only (no log flood).
    expect(lines.filter((l) => l['code'] === 'AUTH_LOCKED').map((l) => l['level'])).toEqual([20]);
    expect(logText()).not.toContain(attachSecret);
    advance(5_000);
    expect(await codeOf(attachAttempt(gate, attempt, { kind: 'secret', secret: attachSecret }, '198.51.100.77'))).toBe('OK');
  });

  it('counts refusals of a closed target against the source, so polling it is not free', async () => {
    const { gate, attempt, metrics } = setup();
    for (let i = 0; i < 5; i++) await codeOf(attachAttempt(gate, attempt, { kind: 'secret', secret: `guess-${i}` }, `198.51.100.${i}`));
    // Three refusals by the closed target (the source threshold is 3) lock the polling source out...
    for (let i = 0; i < 3; i++) expect(await codeOf(attachAttempt(gate, attempt, { kind: 'secret', secret: `poll-${i}` }, '203.0.113.5'))).toBe('AUTH_LOCKED');
    expect(await metrics.valueOf('dbgrelay_auth_lockouts_total')).toBe(1);
    // ...for anything it presents, the relay secret included.
    expect(await codeOf(attachAttempt(gate, attempt, { kind: 'secret', secret }, '203.0.113.5'))).toBe('AUTH_LOCKED');
    expect(await codeOf(attachAttempt(gate, attempt, { kind: 'secret', secret }, '203.0.113.6'))).toBe('OK');
  });
});

describe('AuthGate client certificates', () => {
  it('off: ignores any certificate', async () => {
    const { attempt } = setup();
    const principal = await attempt({ credential: good, certificate: certificate('mallory', false) });
    expect(principal.id).toBe('relay-secret');
  });

  it('required: refuses a connection without a certificate, even with the secret', async () => {
    const { attempt } = setup();
    expect(await codeOf(attempt({ mode: 'required', credential: good }))).toBe('AUTH_REQUIRED');
  });

  it('required: both factors must pass; the grants are the intersection, the id names the certificate', async () => {
    const { attempt } = setup();
    const principal = await attempt({ mode: 'required', credential: good, certificate: certificate('alice') });
    expect(principal.id).toBe('cert:alice');
    expect(principal.grants).toEqual({ register: [], attach: ['web-*'], admin: false });
    expect(await codeOf(attempt({ mode: 'required', credential: wrong, certificate: certificate('alice') }))).toBe('AUTH_FAILED');
    expect(await codeOf(attempt({ mode: 'required', certificate: certificate('alice') }))).toBe('AUTH_REQUIRED');
  });

  it('refuses a certificate that did not verify, or that no rule grants anything, with AUTH_FAILED', async () => {
    const { attempt, metrics } = setup();
    expect(await codeOf(attempt({ mode: 'optional', credential: good, certificate: certificate('alice', false) }))).toBe('AUTH_FAILED');
    expect(await codeOf(attempt({ mode: 'required', credential: good, certificate: certificate('bob') }))).toBe('AUTH_FAILED');
    expect(await metrics.valueOf('dbgrelay_auth_failures_total', { reason: 'AUTH_FAILED' })).toBe(2);
  });

  it('optional: without a certificate the secret decides', async () => {
    const { attempt } = setup();
    expect((await attempt({ mode: 'optional', credential: good })).id).toBe('relay-secret');
  });

  it('sufficient: a granted certificate alone authenticates; a credential sent along must pass too', async () => {
    const { attempt } = setup({ sufficient: true });
    const alone = await attempt({ mode: 'optional', certificate: certificate('agent-7') });
    expect(alone).toMatchObject({ id: 'cert:agent-7', method: 'certificate' });
    expect(alone.grants.register).toEqual(['web-*']);
    expect(await codeOf(attempt({ mode: 'optional', credential: wrong, certificate: certificate('agent-7') }))).toBe('AUTH_FAILED');
  });

  it('not sufficient (default): a certificate alone is not enough', async () => {
    const { attempt } = setup();
    expect(await codeOf(attempt({ mode: 'optional', certificate: certificate('agent-7') }))).toBe('AUTH_REQUIRED');
  });
});

describe('combinePrincipals', () => {
  it('keeps both names unless the credential is the shared secret, and the earlier expiry', () => {
    const cert: Principal = { id: 'cert:alice', grants: grantsFromScopes(['attach:*', 'admin']), method: 'certificate', expiresAt: 2_000 };
    const jwt: Principal = { id: 'jwt:alice', grants: grantsFromScopes(['attach:web-1']), method: 'jwt', expiresAt: 1_000 };
    const both = combinePrincipals(cert, jwt);
    expect(both).toMatchObject({ id: 'cert:alice+jwt:alice', method: 'jwt', expiresAt: 1_000 });
    expect(both.grants).toEqual({ register: [], attach: ['web-1'], admin: false });
  });
});
