import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../../src/common/relayError.js';
import { defaultDataDir } from '../../../src/config/configDefaults.js';
import { loadConfig, type LoadConfigOptions } from '../../../src/config/loadConfig.js';

const baseEnv = { HOME: '/home/ops' };

function configError(options: LoadConfigOptions): string {
  try {
    loadConfig(options);
  } catch (error) {
    expect(isRelayError(error, 'CONFIG_INVALID')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected CONFIG_INVALID');
}

function yamlFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-config-'));
  const file = join(dir, 'relay.yaml');
  writeFileSync(file, text);
  return file;
}

describe('loadConfig', () => {
  it('has the documented defaults and is frozen', () => {
    const config = loadConfig({ env: { XDG_STATE_HOME: '/state' } });
    expect(config.dataDir).toBe('/state/dbgrelay');
    expect(config.listeners.wss).toEqual({ enabled: true, host: '127.0.0.1', port: 7443, clientCertificates: 'off', tls: true });
    expect(config.listeners.tcps).toEqual({ enabled: true, host: '127.0.0.1', port: 7444, clientCertificates: 'off' });
    expect(config.auth.lockout).toEqual({ enabled: true, threshold: 10, windowMs: 60_000, baseMs: 10_000, maxMs: 900_000, maxEntries: 10_000 });
    expect(config.auth.certificates).toEqual({ sufficient: false, grants: [] });
    expect(config.auth.secretFile).toBe('/state/dbgrelay/secret');
    expect(config.limits).toMatchObject({ handshakeTimeoutMs: 10_000, openTimeoutMs: 10_000 });
    expect(config.dap.maxMessageBytes).toBe(16 * 1024 * 1024);
    expect(config.agents).toEqual({ heartbeatIntervalMs: 5_000, heartbeatTimeoutMs: 15_000 });
    expect(config.log.level).toBe('info');
    expect(config.tls.certFile).toBeUndefined();
    expect(Object.isFrozen(config) && Object.isFrozen(config.listeners.wss)).toBe(true);
  });

  it('picks the data directory from STATE_DIRECTORY, then XDG_STATE_HOME, then HOME', () => {
    expect(defaultDataDir({ STATE_DIRECTORY: '/var/lib/dbgrelay:/other', XDG_STATE_HOME: '/x' })).toBe('/var/lib/dbgrelay');
    expect(defaultDataDir({ XDG_STATE_HOME: '/x' })).toBe('/x/dbgrelay');
    expect(defaultDataDir({})).toMatch(/\.local\/state\/dbgrelay$/);
  });

  it('layers file < environment < flags', () => {
    const file = yamlFile('listeners:\n  wss: { port: 9000, host: 0.0.0.0 }\n  tcps: { port: 9001 }\nlog: { level: debug }\n');
    const config = loadConfig({
      env: { ...baseEnv, DBGRELAY_CONFIG: file, DBGRELAY_TCPS_PORT: '9101', DBGRELAY_LOG_LEVEL: 'warn', DBGRELAY_SECRET: 'from-env-secret' },
      flags: { tcpsPort: '0', dataDir: '/tmp/relay-data' },
    });
    expect(config.listeners.wss).toMatchObject({ host: '0.0.0.0', port: 9000 });
    expect(config.listeners.tcps.port).toBe(0);
    expect(config.log.level).toBe('warn');
    expect(config.dataDir).toBe('/tmp/relay-data');
    expect(config.auth.secretFile).toBe('/tmp/relay-data/secret');
    expect(config.auth.secret).toBe('from-env-secret');
  });

  it('resolves relative paths in the file against the file directory', () => {
    const file = yamlFile('dataDir: state\ntls: { certFile: certs/server.pem, keyFile: certs/key.pem }\n');
    const config = loadConfig({ env: baseEnv, flags: { config: file } });
    const dir = file.replace(/\/relay\.yaml$/, '');
    expect(config.dataDir).toBe(join(dir, 'state'));
    expect(config.tls.certFile).toBe(join(dir, 'certs/server.pem'));
  });

  it('names the key of a bad port, with where it came from', () => {
    expect(configError({ env: { ...baseEnv, DBGRELAY_TCPS_PORT: '70000' } })).toContain(
      'listeners.tcps.port: expected integer between 0 and 65535, given 70000 (from DBGRELAY_TCPS_PORT)',
    );
    expect(configError({ env: baseEnv, flags: { wssPort: 'http' } })).toContain('listeners.wss.port: expected integer between 0 and 65535, given "http" (from --wss-port)');
    expect(configError({ env: baseEnv, flags: { config: yamlFile('listeners:\n  wss:\n    port: 1.5\n') } })).toContain('listeners.wss.port: expected integer between 0 and 65535');
  });

  it('refuses a YAML alias that makes a value contain itself, and keeps aliases that do not', () => {
    // found by the config fuzz target: the merge recursed until the stack overflowed
    expect(configError({ env: baseEnv, flags: { config: yamlFile('base: &base\n  <<: *base\n') } })).toContain('a YAML alias refers to a value that contains it');
    expect(configError({ env: baseEnv, flags: { config: yamlFile('listeners: &l\n  wss: { x: *l }\n') } })).toContain('a YAML alias refers to a value that contains it');
    const shared = loadConfig({ env: baseEnv, flags: { config: yamlFile('listeners:\n  wss: { host: &h 127.0.0.2 }\n  tcps: { host: *h }\n') } });
    expect([shared.listeners.wss.host, shared.listeners.tcps.host]).toEqual(['127.0.0.2', '127.0.0.2']);
  });

  it('rejects unknown keys by name', () => {
    const message = configError({ env: baseEnv, flags: { config: yamlFile('listeners:\n  wss:\n    prot: 1\nextra: true\n') } });
    expect(message).toContain('listeners.wss.prot: unknown key');
    expect(message).toContain('extra: unknown key');
  });

  it('checks types, enums and combinations', () => {
    expect(configError({ env: { ...baseEnv, DBGRELAY_WSS_ENABLED: 'maybe' } })).toContain('listeners.wss.enabled: expected true or false');
    expect(configError({ env: baseEnv, flags: { logLevel: 'loud' } })).toContain('log.level: expected one of');
    expect(configError({ env: { ...baseEnv, DBGRELAY_TLS_CERT_FILE: '/c.pem' } })).toContain('tls.keyFile: required when tls.certFile is set');
    expect(configError({ env: { ...baseEnv, DBGRELAY_HEARTBEAT_TIMEOUT_MS: '1000' } })).toContain('agents.heartbeatTimeoutMs: must be greater');
    expect(configError({ env: baseEnv, flags: { config: yamlFile('listeners: 3\n') } })).toContain('listeners: expected a mapping');
    expect(configError({ env: { ...baseEnv, DBGRELAY_WSS_ENABLED: 'false', DBGRELAY_TCPS_ENABLED: 'no' } })).toContain('listeners: at least one listener must be enabled');
  });

  it('refuses a secret in the config file and never quotes it', () => {
    const message = configError({ env: baseEnv, flags: { config: yamlFile('auth:\n  secret: hunter2-very-secret\n') } });
    expect(message).toContain('auth.secret: not accepted in the config file');
    expect(message).not.toContain('hunter2');
  });

  // Found by fuzzing (fuzz/regressions/config/): YAML keeps `__proto__` as an ordinary
  // key, and merging it wrote into Object.prototype, i.e. into every object of the relay.
  it('refuses a __proto__ key in the file, at any depth, and leaves Object.prototype alone', () => {
    expect(configError({ env: baseEnv, flags: { config: yamlFile('__proto__:\n  polluted: true\n') } })).toContain('__proto__: not a configuration key');
    expect(configError({ env: baseEnv, flags: { config: yamlFile('auth:\n  __proto__: { secretFile: /etc/shadow }\n') } })).toContain('auth.__proto__: not a configuration key');
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(({} as Record<string, unknown>)['secretFile']).toBeUndefined();
  });

  it('reports unreadable and malformed files', () => {
    expect(configError({ env: baseEnv, flags: { config: '/nonexistent/relay.yaml' } })).toContain('ENOENT');
    expect(configError({ env: baseEnv, flags: { config: yamlFile('a: [1,\n') } })).toMatch(/config file .*relay\.yaml:2: /);
    expect(configError({ env: baseEnv, flags: { config: yamlFile('- 1\n- 2\n') } })).toContain('expected a mapping at the top level');
  });
});
