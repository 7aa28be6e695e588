import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCa, createLeaf } from '../../../src/certs/certificateFactory.js';
import type { ClientIdentity } from '../../../src/dial/clientIdentity.js';
import { loadClientIdentity } from '../../../src/dial/clientIdentity.js';
import { fetchTargets } from '../../../src/dial/relayTargetList.js';
import { parseRelayEndpoint } from '../../../src/dial/relayEndpoint.js';
import { caTrust } from '../../../src/dial/tlsTrust.js';
import { isRelayError } from '../../../src/common/relayError.js';
import { makeCertificates, startTestRelay, type FixtureCertificates, type TestRelay } from '../../support/relay/relayFixture.js';

/** mTLS, lockout and auth metrics through the real listeners (docs/protocol.md §2, docs/operations.md). */
const secret = 'relay-access-test-secret-0123456789';
let server: FixtureCertificates;
let clientCaFile: string;
let alice: ClientIdentity;
let mallory: ClientIdentity;
let relay: TestRelay | undefined;

function identityFile(dir: string, name: string, made: { certPem: string; keyPem: string }): ClientIdentity {
  writeFileSync(join(dir, `${name}.pem`), made.certPem);
  writeFileSync(join(dir, `${name}-key.pem`), made.keyPem, { mode: 0o600 });
  return loadClientIdentity(join(dir, `${name}.pem`), join(dir, `${name}-key.pem`));
}

beforeAll(() => {
  server = makeCertificates();
  const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-client-certs-'));
  const clientCa = createCa('client CA');
  const otherCa = createCa('other CA');
  clientCaFile = join(dir, 'client-ca.pem');
  writeFileSync(clientCaFile, clientCa.certPem);
  alice = identityFile(dir, 'alice', createLeaf(clientCa, 'alice', { client: true }));
  mallory = identityFile(dir, 'mallory', createLeaf(otherCa, 'alice', { client: true }));
});

afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    return isRelayError(error) ? error.code : String(error);
  }
}

function list(url: string, options: { identity?: ClientIdentity; secret?: string }): Promise<unknown> {
  return fetchTargets({
    endpoint: parseRelayEndpoint(url),
    trust: caTrust(server.caPem, 'ca'),
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.secret !== undefined ? { secret: options.secret } : {}),
  });
}

function urls(r: TestRelay): string[] {
  return [r.relay.wssAddress!.url, r.relay.tcpsAddress!.url];
}

describe('client certificates required on both listeners', () => {
  const start = (sufficient: boolean) =>
    startTestRelay(server, {
      listeners: { wss: { port: 0, clientCertificates: 'required' }, tcps: { port: 0, clientCertificates: 'required' } },
      tls: { certFile: server.certFile, keyFile: server.keyFile, clientCaFile },
      auth: { secret, certificates: { sufficient, grants: [{ cn: 'alice', scopes: ['attach:*'] }] } },
    });

  it('needs the certificate and the secret; refuses a missing or foreign certificate with a clear code', async () => {
    relay = await start(false);
    for (const url of urls(relay)) {
      expect(await codeOf(list(url, { identity: alice, secret }))).toBe('OK');
      expect(await codeOf(list(url, { secret }))).toBe('AUTH_REQUIRED');
      expect(await codeOf(list(url, { identity: alice }))).toBe('AUTH_REQUIRED');
      expect(await codeOf(list(url, { identity: alice, secret: 'wrong' }))).toBe('AUTH_FAILED');
      expect(await codeOf(list(url, { identity: mallory, secret }))).toBe('AUTH_FAILED');
    }
    const lines = relay.logLines().filter((line) => line['tag'] === 'auth' && line['msg'] === 'authentication refused');
    expect(lines.some((line) => String(line['reason']).includes('client certificate not trusted'))).toBe(true);
    expect(lines.some((line) => line['identity'] === 'cert:alice' && line['source'] === '127.0.0.1')).toBe(true);
    expect(relay.logText()).not.toContain(secret);
    expect(await relay.relay.metrics.valueOf('dbgrelay_auth_failures_total', { reason: 'AUTH_REQUIRED' })).toBe(4);
    expect(await relay.relay.metrics.valueOf('dbgrelay_auth_failures_total', { reason: 'AUTH_FAILED' })).toBe(4);
  });

  it('with auth.certificates.sufficient, the certificate alone is enough', async () => {
    relay = await start(true);
    for (const url of urls(relay)) {
      expect(await codeOf(list(url, { identity: alice }))).toBe('OK');
      expect(await codeOf(list(url, { identity: mallory }))).toBe('AUTH_FAILED');
    }
  });
});

describe('lockout through the listeners', () => {
  it('locks the source after repeated wrong secrets: HTTP 429 and AUTH_LOCKED on tcps, even for the right secret', async () => {
    relay = await startTestRelay(server, { auth: { secret, lockout: { threshold: 3, baseMs: 60_000 } } });
    const [wss, tcps] = urls(relay) as [string, string];
    expect(await codeOf(list(wss, { secret: 'guess-1' }))).toBe('AUTH_FAILED');
    expect(await codeOf(list(tcps, { secret: 'guess-2' }))).toBe('AUTH_FAILED');
    expect(await codeOf(list(wss, { secret: 'guess-3' }))).toBe('AUTH_FAILED');
    expect(await codeOf(list(tcps, { secret }))).toBe('AUTH_LOCKED');
    expect(await codeOf(list(wss, { secret }))).toBe('AUTH_LOCKED');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${wss.replace('wss:', 'https:')}/v1/targets`,
        { ca: server.caPem, headers: { Authorization: `Basic ${Buffer.from(`${secret}:`).toString('base64')}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(429);
    const metrics = relay.relay.metrics;
    expect(await metrics.valueOf('dbgrelay_auth_failures_total', { reason: 'AUTH_FAILED' })).toBe(3);
    expect(await metrics.valueOf('dbgrelay_auth_failures_total', { reason: 'AUTH_LOCKED' })).toBe(3);
    expect(await metrics.valueOf('dbgrelay_auth_lockouts_total')).toBe(1);
    expect(await metrics.valueOf('dbgrelay_auth_locked_sources')).toBe(1);
    const locked = relay.logLines().find((line) => line['msg'] === 'source locked out');
    expect(locked).toMatchObject({ tag: 'auth', source: '127.0.0.1', lockedForMs: 60_000 });
    expect(relay.logText()).not.toMatch(/guess-\d/);
  });

  it('can be turned off (auth.lockout.enabled: false)', async () => {
    relay = await startTestRelay(server, { auth: { secret, lockout: { enabled: false, threshold: 1 } } });
    const [wss] = urls(relay) as [string];
    expect(await codeOf(list(wss, { secret: 'guess' }))).toBe('AUTH_FAILED');
    expect(await codeOf(list(wss, { secret }))).toBe('OK');
  });
});
