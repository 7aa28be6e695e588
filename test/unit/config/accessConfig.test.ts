import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCa, createLeaf } from '../../../src/certs/certificateFactory.js';
import { isRelayError } from '../../../src/common/relayError.js';
import { loadConfig } from '../../../src/config/loadConfig.js';
import { loadClientCa } from '../../../src/listeners/clientCertificateTls.js';

function configError(run: () => unknown): string {
  try {
    run();
    return 'OK';
  } catch (error) {
    return isRelayError(error, 'CONFIG_INVALID') ? error.message : String(error);
  }
}

describe('client certificate and lockout configuration', () => {
  it('takes the listener modes and the client CA from the environment', () => {
    const config = loadConfig({
      env: { DBGRELAY_TCPS_CLIENT_CERTIFICATES: 'required', DBGRELAY_TLS_CLIENT_CA_FILE: '/etc/ca.pem', DBGRELAY_AUTH_LOCKOUT_THRESHOLD: '4' },
    });
    expect(config.listeners.tcps.clientCertificates).toBe('required');
    expect(config.listeners.wss.clientCertificates).toBe('off');
    expect(config.tls.clientCaFile).toBe('/etc/ca.pem');
    expect(config.auth.lockout.threshold).toBe(4);
  });

  it('refuses client certificates without a client CA, naming the keys', () => {
    const message = configError(() => loadConfig({ env: {}, overrides: { listeners: { wss: { clientCertificates: 'optional' } } } }));
    expect(message).toContain('tls.clientCaFile: required when listeners.wss.clientCertificates is not off');
  });

  it('refuses unknown modes, malformed grant rules and bad lockout bounds, naming the key', () => {
    expect(configError(() => loadConfig({ env: { DBGRELAY_WSS_CLIENT_CERTIFICATES: 'maybe' } }))).toContain(
      'listeners.wss.clientCertificates: expected one of off, optional, required, given "maybe" (from DBGRELAY_WSS_CLIENT_CERTIFICATES)',
    );
    expect(configError(() => loadConfig({ env: {}, overrides: { auth: { certificates: { grants: [{ cn: 'alice', scopes: ['attach:'] }] } } } }))).toContain(
      'auth.certificates.grants.0.scopes',
    );
    expect(configError(() => loadConfig({ env: {}, overrides: { auth: { certificates: { grants: [{ cn: 'alice' }] } } } }))).toContain('auth.certificates.grants.0.scopes');
    expect(configError(() => loadConfig({ env: {}, overrides: { auth: { lockout: { threshold: 0 } } } }))).toContain('auth.lockout.threshold');
  });

  it('loads the client CA file and refuses one that is not a CA certificate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-client-ca-'));
    const ca = createCa('client CA');
    const leaf = createLeaf(ca, 'alice', { client: true });
    writeFileSync(join(dir, 'ca.pem'), ca.certPem);
    writeFileSync(join(dir, 'leaf.pem'), leaf.certPem);
    const configFor = (file: string) => loadConfig({ env: {}, overrides: { tls: { clientCaFile: file } } });
    expect(loadClientCa(configFor(join(dir, 'ca.pem')))).toContain('BEGIN CERTIFICATE');
    expect(configError(() => loadClientCa(configFor(join(dir, 'leaf.pem'))))).toContain('not a CA certificate');
    expect(configError(() => loadClientCa(configFor(join(dir, 'missing.pem'))))).toContain('tls.clientCaFile: cannot read');
  });
});
