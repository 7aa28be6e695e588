import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configErrorOf, configFile, configTestEnv } from '../../support/harness/configTestKit.js';
import { loadConfig } from '../../../src/config/loadConfig.js';

const env = configTestEnv;

describe('sshServer config', () => {
  it('is off by default, on 127.0.0.1:2222, with bounds', () => {
    expect(loadConfig({ env }).sshServer).toEqual({
      enabled: false,
      host: '127.0.0.1',
      port: 2222,
      maxConnections: 64,
      maxStartups: { start: 10, rate: 30, full: 60 },
      maxStartupsPerSource: 8,
      authTimeoutMs: 20_000,
      maxAuthAttempts: 6,
      maxForwardsPerConnection: 16,
      keepaliveIntervalMs: 15_000,
      keepaliveCountMax: 3,
    });
  });

  it('needs authorizedKeysFile when enabled, and resolves its paths against the config file', () => {
    expect(configErrorOf(() => loadConfig({ env, overrides: { sshServer: { enabled: true } } }))).toMatch(
      /sshServer\.authorizedKeysFile: required when sshServer\.enabled is true/,
    );
    const file = configFile(['sshServer:', '  enabled: true', '  port: 0', '  authorizedKeysFile: keys/authorized_keys', '  hostKeyFile: host_key']);
    const config = loadConfig({ env, flags: { config: file } });
    expect(config.sshServer).toMatchObject({ enabled: true, port: 0, authorizedKeysFile: join(file, '..', 'keys', 'authorized_keys'), hostKeyFile: join(file, '..', 'host_key') });
  });

  it('reads DBGRELAY_SSH_SERVER_* variables and names bad values', () => {
    const config = loadConfig({
      env: { ...env, DBGRELAY_SSH_SERVER_ENABLED: 'yes', DBGRELAY_SSH_SERVER_PORT: '2022', DBGRELAY_SSH_SERVER_AUTHORIZED_KEYS_FILE: '/etc/dbgrelay/authorized_keys' },
    });
    expect(config.sshServer).toMatchObject({ enabled: true, port: 2022, authorizedKeysFile: '/etc/dbgrelay/authorized_keys' });
    expect(configErrorOf(() => loadConfig({ env: { ...env, DBGRELAY_SSH_SERVER_PORT: '70000' } }))).toMatch(
      /sshServer\.port: expected integer between 0 and 65535, given 70000 \(from DBGRELAY_SSH_SERVER_PORT\)/,
    );
    expect(configErrorOf(() => loadConfig({ env, overrides: { sshServer: { keepaliveCountMax: 0 } } }))).toMatch(/sshServer\.keepaliveCountMax/);
    expect(configErrorOf(() => loadConfig({ env, overrides: { sshServer: { permitOpen: true } } }))).toMatch(/sshServer\.permitOpen: unknown key/);
    expect(configErrorOf(() => loadConfig({ env, overrides: { sshServer: { maxStartups: { start: 20, rate: 30, full: 10 } } } }))).toMatch(
      /sshServer\.maxStartups\.full: must be at least maxStartups\.start/,
    );
    expect(configErrorOf(() => loadConfig({ env, overrides: { sshServer: { maxStartups: { start: 10, rate: 0, full: 60 } } } }))).toMatch(/sshServer\.maxStartups\.rate/);
  });
});
