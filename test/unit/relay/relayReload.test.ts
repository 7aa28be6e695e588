import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/loadConfig.js';
import type { RelayConfig } from '../../../src/config/configSchema.js';
import { effectiveConfig, planReload } from '../../../src/lifecycle/reloadPlan.js';
import { startRelay, type RelayHandle } from '../../../src/relay/relayServer.js';
import { testCertificates } from '../../support/keys/testCertificates.js';

const logger = pino({ level: 'silent' });

function config(overrides: Record<string, unknown> = {}): RelayConfig {
  return loadConfig({ env: {}, overrides: { dataDir: '/tmp/unused', ...overrides } });
}

describe('planReload', () => {
  it('sorts changed keys into applied and needing a restart; the running value of the latter stays', () => {
    const running = config();
    const next = config({ listeners: { tcps: { port: 9000 } }, policies: { default: 'no-eval' }, limits: { maxSessionsPerTarget: 3, openTimeoutMs: 500 } });
    const plan = planReload(running, next);
    expect(plan.changed).toEqual(['limits.maxSessionsPerTarget', 'policies.default']);
    expect(plan.needsRestart).toEqual(['limits.openTimeoutMs', 'listeners.tcps.port']);
    const effective = effectiveConfig(running, next, plan.needsRestart);
    expect(effective.listeners.tcps.port).toBe(7444);
    expect(effective.limits.openTimeoutMs).toBe(10_000);
    expect(effective.policies.default).toBe('no-eval');
    expect(Object.isFrozen(effective.limits)).toBe(true);
    expect(planReload(effective, next).needsRestart).toEqual(plan.needsRestart); // reported again next time
  });
});

/** The certificate the relay's tcps listener presents to a new connection. */
function presented(port: number): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate());
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

describe('RelayHandle.reload', () => {
  let relay: RelayHandle;
  let base: RelayConfig;

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dbgrelay-reload-'));
    base = loadConfig({ env: {}, overrides: { dataDir, listeners: { wss: { port: 0 }, tcps: { port: 0 } }, audit: { enabled: false } } });
    relay = await startRelay(base, { logger });
  });
  afterAll(() => relay?.close());

  it('gives new TLS connections of both listeners the new certificate, without a restart', async () => {
    const before = await presented(relay.tcpsAddress!.port);
    const certs = testCertificates();
    const result = relay.reload({ ...base, tls: { ...base.tls, certFile: certs.chainFile, keyFile: certs.keyFile } } as RelayConfig);
    expect(result).toMatchObject({ certificateChanged: true, needsRestart: [], changed: ['tls.certFile', 'tls.keyFile'] });
    expect(relay.tls).toMatchObject({ source: 'files', leafFingerprint: certs.leafFingerprint });
    for (const port of [relay.tcpsAddress!.port, relay.wssAddress!.port]) {
      const after = await presented(port);
      expect(after.fingerprint256).not.toBe(before.fingerprint256);
      expect(`sha256:${after.fingerprint256.replace(/:/g, '').toLowerCase()}`).toBe(certs.leafFingerprint);
    }
  });

  it('refuses a key that does not match its certificate and keeps presenting the current one', async () => {
    const certs = testCertificates();
    const other = testCertificates('other');
    expect(() => relay.reload({ ...base, tls: { ...base.tls, certFile: certs.chainFile, keyFile: other.keyFile } } as RelayConfig)).toThrow(/tls\.certFile\/tls\.keyFile/);
    const after = await presented(relay.tcpsAddress!.port);
    expect(`sha256:${after.fingerprint256.replace(/:/g, '').toLowerCase()}`).toBe(certs.leafFingerprint);
    expect(await relay.metrics.valueOf('dbgrelay_config_reloads_total', { outcome: 'refused' })).toBe(1);
  });
});
