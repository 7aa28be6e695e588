/** How a string from the environment or a flag is turned into a config value. */
type ValueKind = 'string' | 'integer' | 'boolean' | 'path' | 'list';

/** One environment variable and the config key it sets. */
export interface EnvironmentBinding {
  readonly env: string;
  readonly key: string;
  readonly kind: ValueKind;
}

/**
 * Every environment variable `dbgrelay serve` reads (besides `DBGRELAY_CONFIG`, the
 * config file path). `DBGRELAY_SECRET` has no flag and no config-file key on purpose:
 * a secret never belongs in argv.
 */
export const environmentBindings: readonly EnvironmentBinding[] = [
  { env: 'DBGRELAY_DATA_DIR', key: 'dataDir', kind: 'path' },
  { env: 'DBGRELAY_WSS_ENABLED', key: 'listeners.wss.enabled', kind: 'boolean' },
  { env: 'DBGRELAY_WSS_HOST', key: 'listeners.wss.host', kind: 'string' },
  { env: 'DBGRELAY_WSS_PORT', key: 'listeners.wss.port', kind: 'integer' },
  { env: 'DBGRELAY_TCPS_ENABLED', key: 'listeners.tcps.enabled', kind: 'boolean' },
  { env: 'DBGRELAY_TCPS_HOST', key: 'listeners.tcps.host', kind: 'string' },
  { env: 'DBGRELAY_TCPS_PORT', key: 'listeners.tcps.port', kind: 'integer' },
  { env: 'DBGRELAY_WSS_TLS', key: 'listeners.wss.tls', kind: 'boolean' },
  { env: 'DBGRELAY_PTVSD_DEFAULT_TARGET', key: 'ptvsd.defaultTarget', kind: 'string' },
  { env: 'DBGRELAY_WSS_CLIENT_CERTIFICATES', key: 'listeners.wss.clientCertificates', kind: 'string' },
  { env: 'DBGRELAY_TCPS_CLIENT_CERTIFICATES', key: 'listeners.tcps.clientCertificates', kind: 'string' },
  { env: 'DBGRELAY_TLS_CERT_FILE', key: 'tls.certFile', kind: 'path' },
  { env: 'DBGRELAY_TLS_KEY_FILE', key: 'tls.keyFile', kind: 'path' },
  { env: 'DBGRELAY_TLS_CLIENT_CA_FILE', key: 'tls.clientCaFile', kind: 'path' },
  { env: 'DBGRELAY_TLS_PUBLIC_NAMES', key: 'tls.publicNames', kind: 'list' },
  { env: 'DBGRELAY_SECRET_FILE', key: 'auth.secretFile', kind: 'path' },
  { env: 'DBGRELAY_SECRET', key: 'auth.secret', kind: 'string' },
  { env: 'DBGRELAY_JWT_ENABLED', key: 'auth.jwt.enabled', kind: 'boolean' },
  { env: 'DBGRELAY_JWT_ISSUER', key: 'auth.jwt.issuer', kind: 'string' },
  { env: 'DBGRELAY_JWT_AUDIENCE', key: 'auth.jwt.audience', kind: 'string' },
  { env: 'DBGRELAY_JWT_KEY_FILE', key: 'auth.jwt.keyFile', kind: 'path' },
  { env: 'DBGRELAY_JWT_JWKS_FILE', key: 'auth.jwt.jwksFile', kind: 'path' },
  { env: 'DBGRELAY_JWT_JWKS_URL', key: 'auth.jwt.jwksUrl', kind: 'string' },
  { env: 'DBGRELAY_JWT_SIGNING_KEY_FILE', key: 'auth.jwt.signingKeyFile', kind: 'path' },
  { env: 'DBGRELAY_AUTH_LOCKOUT_ENABLED', key: 'auth.lockout.enabled', kind: 'boolean' },
  { env: 'DBGRELAY_AUTH_LOCKOUT_THRESHOLD', key: 'auth.lockout.threshold', kind: 'integer' },
  { env: 'DBGRELAY_HANDSHAKE_TIMEOUT_MS', key: 'limits.handshakeTimeoutMs', kind: 'integer' },
  { env: 'DBGRELAY_OPEN_TIMEOUT_MS', key: 'limits.openTimeoutMs', kind: 'integer' },
  { env: 'DBGRELAY_MAX_CONTROL_MESSAGE_BYTES', key: 'limits.maxControlMessageBytes', kind: 'integer' },
  { env: 'DBGRELAY_MAX_PENDING_OPENS_PER_AGENT', key: 'limits.maxPendingOpensPerAgent', kind: 'integer' },
  { env: 'DBGRELAY_MAX_JSON_DEPTH', key: 'limits.maxJsonDepth', kind: 'integer' },
  { env: 'DBGRELAY_DAP_MAX_MESSAGE_BYTES', key: 'dap.maxMessageBytes', kind: 'integer' },
  { env: 'DBGRELAY_DAP_PREFETCH_MAX_BYTES_PER_STOP', key: 'dap.prefetch.maxBytesPerStop', kind: 'integer' },
  { env: 'DBGRELAY_HEARTBEAT_INTERVAL_MS', key: 'agents.heartbeatIntervalMs', kind: 'integer' },
  { env: 'DBGRELAY_HEARTBEAT_TIMEOUT_MS', key: 'agents.heartbeatTimeoutMs', kind: 'integer' },
  { env: 'DBGRELAY_LOG_LEVEL', key: 'log.level', kind: 'string' },
  { env: 'DBGRELAY_LOG_FILE', key: 'log.file', kind: 'path' },
  { env: 'DBGRELAY_POLICY_DEFAULT', key: 'policies.default', kind: 'string' },
  { env: 'DBGRELAY_MAX_PAUSE_MS', key: 'pauseWatchdog.maxPauseMs', kind: 'integer' },
  { env: 'DBGRELAY_SESSIONS_EXCLUSIVE', key: 'sessions.exclusive', kind: 'boolean' },
  { env: 'DBGRELAY_AUDIT_ENABLED', key: 'audit.enabled', kind: 'boolean' },
  { env: 'DBGRELAY_AUDIT_FILE', key: 'audit.file', kind: 'path' },
  { env: 'DBGRELAY_AUDIT_SYNC', key: 'audit.sync', kind: 'boolean' },
  { env: 'DBGRELAY_CLUSTER_STORE_URL', key: 'cluster.store.url', kind: 'string' },
  { env: 'DBGRELAY_CLUSTER_INSTANCE_ID', key: 'cluster.instanceId', kind: 'string' },
  { env: 'DBGRELAY_CLUSTER_PEER_ADVERTISE', key: 'cluster.peer.advertise', kind: 'string' },
  { env: 'DBGRELAY_CLUSTER_PEER_CERT_FILE', key: 'cluster.peer.certFile', kind: 'path' },
  { env: 'DBGRELAY_CLUSTER_PEER_KEY_FILE', key: 'cluster.peer.keyFile', kind: 'path' },
  { env: 'DBGRELAY_CLUSTER_PEER_CA_FILE', key: 'cluster.peer.caFile', kind: 'path' },
  { env: 'DBGRELAY_METRICS_ENABLED', key: 'metrics.enabled', kind: 'boolean' },
  { env: 'DBGRELAY_METRICS_HOST', key: 'metrics.host', kind: 'string' },
  { env: 'DBGRELAY_METRICS_PORT', key: 'metrics.port', kind: 'integer' },
  { env: 'DBGRELAY_METRICS_BEARER_TOKEN_FILE', key: 'metrics.bearerTokenFile', kind: 'path' },
  { env: 'DBGRELAY_SSH_SERVER_ENABLED', key: 'sshServer.enabled', kind: 'boolean' },
  { env: 'DBGRELAY_SSH_SERVER_HOST', key: 'sshServer.host', kind: 'string' },
  { env: 'DBGRELAY_SSH_SERVER_PORT', key: 'sshServer.port', kind: 'integer' },
  { env: 'DBGRELAY_SSH_SERVER_HOST_KEY_FILE', key: 'sshServer.hostKeyFile', kind: 'path' },
  { env: 'DBGRELAY_SSH_SERVER_AUTHORIZED_KEYS_FILE', key: 'sshServer.authorizedKeysFile', kind: 'path' },
];

/** Environment variable naming the config file (flag `--config` wins). */
export const configFileEnvironmentVariable = 'DBGRELAY_CONFIG';

/** Flags of `dbgrelay serve` that set config keys (commander's camelCase option names). */
export interface ServeFlags {
  readonly config?: string;
  readonly dataDir?: string;
  readonly wssHost?: string;
  readonly wssPort?: string;
  readonly tcpsHost?: string;
  readonly tcpsPort?: string;
  /** `--public-name`, repeatable: the values joined with commas. */
  readonly publicName?: string;
  readonly logLevel?: string;
  readonly logFile?: string;
}

/** Which config key each flag sets. */
export const flagBindings: ReadonlyArray<{ readonly flag: Exclude<keyof ServeFlags, 'config'>; readonly option: string; readonly key: string; readonly kind: ValueKind }> = [
  { flag: 'dataDir', option: '--data-dir', key: 'dataDir', kind: 'path' },
  { flag: 'wssHost', option: '--wss-host', key: 'listeners.wss.host', kind: 'string' },
  { flag: 'wssPort', option: '--wss-port', key: 'listeners.wss.port', kind: 'integer' },
  { flag: 'tcpsHost', option: '--tcps-host', key: 'listeners.tcps.host', kind: 'string' },
  { flag: 'tcpsPort', option: '--tcps-port', key: 'listeners.tcps.port', kind: 'integer' },
  { flag: 'publicName', option: '--public-name', key: 'tls.publicNames', kind: 'list' },
  { flag: 'logLevel', option: '--log-level', key: 'log.level', kind: 'string' },
  { flag: 'logFile', option: '--log-file', key: 'log.file', kind: 'path' },
];

/** Config keys holding file system paths (resolved against the config file's directory or the cwd). */
export const pathKeys: readonly string[] = [
  'dataDir',
  'tls.certFile',
  'tls.keyFile',
  'tls.clientCaFile',
  'auth.secretFile',
  'auth.jwt.keyFile',
  'auth.jwt.jwksFile',
  'auth.jwt.signingKeyFile',
  'log.file',
  'audit.file',
  'audit.transcripts.dir',
  'metrics.bearerTokenFile',
  'sshServer.hostKeyFile',
  'sshServer.authorizedKeysFile',
];

/**
 * Converts a string from the environment or a flag. A string that does not convert is
 * kept as is, so that validation reports the key with what it expected.
 */
export function convertValue(raw: string, kind: ValueKind): unknown {
  if (kind === 'list') {
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }
  if (kind === 'integer') return /^-?\d{1,15}$/.test(raw.trim()) ? Number(raw.trim()) : raw;
  if (kind === 'boolean') {
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    return raw;
  }
  return raw;
}
