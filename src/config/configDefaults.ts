import { homedir } from 'node:os';
import { join } from 'node:path';
import { maxJsonDepth } from '../common/jsonDepth.js';
import { jwtConfigDefaults } from './jwtConfigSchema.js';
import { certificatesConfigDefaults, lockoutConfigDefaults } from './accessConfigSchema.js';
import { attachSecretsConfigDefaults } from './attachSecretsConfigSchema.js';
import { guardrailsConfigDefaults } from './guardrailsConfigSchema.js';
import { frontEndConfigDefaults } from './frontEndConfigSchema.js';
import { metricsConfigDefaults } from './observabilityConfigSchema.js';
import { sshServerConfigDefaults } from './sshServerConfigSchema.js';
import { heartbeatConfigDefaults } from './heartbeatConfigSchema.js';
import { lifecycleConfigDefaults, lifecycleLimitsDefaults } from './lifecycleConfigSchema.js';
import { preAuthLimitsDefaults } from './preAuthConfigSchema.js';
import { clusterConfigDefaults } from './clusterConfigSchema.js';
import { consoleConfigDefaults } from './consoleConfigSchema.js';
import { defaultMaxDapMessageBytes } from '../protocol/dapMessageBound.js';

/** Where the relay keeps its state (dev CA, certificates, secret) unless `dataDir` says otherwise. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  // systemd's StateDirectory= sets STATE_DIRECTORY (a colon-separated list; the first is ours).
  const stateDirectory = env['STATE_DIRECTORY']?.split(':')[0];
  if (stateDirectory) return stateDirectory;
  const xdg = env['XDG_STATE_HOME'];
  if (xdg) return join(xdg, 'dbgrelay');
  return join(homedir(), '.local', 'state', 'dbgrelay');
}

/**
 * Built-in defaults, the first layer of the configuration (docs: `dbgrelay serve --help`).
 * `auth.secretFile` is absent here: it defaults to `<dataDir>/secret` after merging.
 */
export function configDefaults(env: NodeJS.ProcessEnv): Record<string, unknown> {
  return {
    dataDir: defaultDataDir(env),
    listeners: {
      wss: { enabled: true, host: '127.0.0.1', port: 7443, clientCertificates: 'off', tls: true },
      tcps: { enabled: true, host: '127.0.0.1', port: 7444, clientCertificates: 'off' },
    },
    tls: { publicNames: [] },
    auth: {
      jwt: { ...jwtConfigDefaults, algorithms: [...jwtConfigDefaults.algorithms] },
      certificates: { ...certificatesConfigDefaults, grants: [] },
      lockout: { ...lockoutConfigDefaults },
      attachSecrets: { minLength: attachSecretsConfigDefaults.minLength, guessLimit: { ...attachSecretsConfigDefaults.guessLimit } },
    },
    limits: {
      handshakeTimeoutMs: 10_000,
      openTimeoutMs: 10_000,
      // Node's own keepAliveTimeout default, written down.
      httpKeepAliveTimeoutMs: 5_000,
      maxControlMessageBytes: 64 * 1024,
      maxPendingOpensPerAgent: 16,
      maxJsonDepth,
      ...lifecycleLimitsDefaults,
      ...preAuthLimitsDefaults,
    },
    dap: { maxMessageBytes: defaultMaxDapMessageBytes, prefetch: { maxBytesPerStop: 256 * 1024, maxHoldMs: 300 } },
    agents: { heartbeatIntervalMs: 5_000, heartbeatTimeoutMs: 15_000 },
    log: { level: 'info' },
    ...guardrailsConfigDefaults(),
    ...frontEndConfigDefaults(),
    ...metricsConfigDefaults(),
    ...sshServerConfigDefaults(),
    targets: {},
    heartbeat: { ...heartbeatConfigDefaults },
    ...lifecycleConfigDefaults(),
    ...clusterConfigDefaults(),
    console: { ...consoleConfigDefaults },
  };
}
