import { chmodSync, mkdirSync } from 'node:fs';
import { CompositeAuthenticator } from '../auth/compositeAuthenticator.js';
import { JwtAuthenticator } from '../auth/jwtAuthenticator.js';
import type { Authenticator } from '../auth/principal.js';
import { resolveRelaySecret } from '../auth/relaySecret.js';
import { SecretAuthenticator } from '../auth/secretAuthenticator.js';
import { RelayError } from '../common/relayError.js';
import type { RelayConfig } from '../config/configSchema.js';
import { tagged, type Logger } from '../log/logger.js';
import type { AgentConnection } from '../targets/agentConnection.js';
import { TargetRegistry } from '../targets/targetRegistry.js';
import type { RelayMetrics } from '../metrics/relayMetrics.js';
import { AgentHub } from './agentHub.js';
import { startHttpsListener } from './httpsListener.js';
import type { ListenAddress, ListenerContext, RunningListener } from './listenerContext.js';
import { SessionBroker } from './sessionBroker.js';
import { SessionGuards } from '../session/sessionGuards.js';
import { startTcpsListener } from './tcpsListener.js';
import { createRelayAccess } from './relayAccess.js';
import { loadTlsMaterial, type TlsMaterial } from './tlsMaterial.js';

export type { ListenAddress } from './listenerContext.js';

/** Options of {@link startRelay}. */
export interface RelayOptions {
  readonly logger: Logger;
  /**
   * Called once when this start created the secret file, so that the CLI can show
   * the secret this one time. The library itself never prints or logs it.
   */
  readonly onSecretCreated?: (secret: string, file: string) => void;
}

/** A running relay. */
export interface RelayHandle {
  /** Address of the wss listener, undefined when disabled. */
  readonly wssAddress: ListenAddress | undefined;
  /** Address of the tcps listener, undefined when disabled. */
  readonly tcpsAddress: ListenAddress | undefined;
  readonly registry: TargetRegistry<AgentConnection>;
  /** The certificate the relay presents and its fingerprints. */
  readonly tls: Omit<TlsMaterial, 'key' | 'cert'>;
  /** The secret file in use, or undefined when the secret comes from `DBGRELAY_SECRET`. */
  readonly secretFile: string | undefined;
  /** This instance's metrics; `metrics.registry` is its own prom-client registry. */
  readonly metrics: RelayMetrics;
  /** Stops listening, closes every session and agent connection; resolves when done. */
  close(): Promise<void>;
}

function prepareDataDir(dataDir: string): void {
  try {
    const created = mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (created !== undefined) chmodSync(dataDir, 0o700); // mode is subject to the umask
  } catch (error) {
    throw new RelayError('CONFIG_INVALID', `dataDir: cannot create ${dataDir} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * Starts the relay daemon described by `config`: data directory, secret, TLS
 * material, then the wss and tcps listeners. Throws a {@link RelayError}
 * (`CONFIG_INVALID`, or the listen error) and leaves nothing running on failure.
 * Never exits the process.
 */
export async function startRelay(config: RelayConfig, options: RelayOptions): Promise<RelayHandle> {
  const { logger } = options;
  prepareDataDir(config.dataDir);
  const secret = resolveRelaySecret(config.auth.secret, config.auth.secretFile);
  const configLog = tagged(logger, 'config');
  if (secret.created) {
    configLog.info({ secretFile: secret.file }, 'created a new relay secret');
    options.onSecretCreated?.(secret.secret, secret.file);
  }
  if (secret.looseFileMode) configLog.warn({ secretFile: secret.file }, 'secret file is readable by group or others; chmod 600 it');
  if (secret.secret.length < 16) configLog.warn('the relay secret is shorter than 16 characters');
  const authenticator: Authenticator = new CompositeAuthenticator({
    secret: new SecretAuthenticator(secret.secret),
    ...(config.auth.jwt.enabled ? { bearer: JwtAuthenticator.fromConfig(config.auth.jwt, tagged(logger, 'auth')) } : {}),
  });
  if (config.auth.jwt.enabled) {
    const { algorithms, issuer, audience, keyFile, jwksFile, jwksUrl, maxLifetimeS } = config.auth.jwt;
    configLog.info({ algorithms, issuer, audience, keyFile, jwksFile, jwksUrl, maxLifetimeS }, 'JWT bearer tokens enabled');
  }
  const tls = loadTlsMaterial(config);
  if (tls.created) tagged(logger, 'tls').info({ caFile: tls.caFile, caFingerprint: tls.caFingerprint }, 'created development CA and server certificate');
  const access = createRelayAccess(config, logger);

  const registry = new TargetRegistry<AgentConnection>();
  const hub = new AgentHub(
    registry,
    {
      handshakeTimeoutMs: config.limits.handshakeTimeoutMs,
      heartbeatIntervalMs: config.agents.heartbeatIntervalMs,
      heartbeatTimeoutMs: config.agents.heartbeatTimeoutMs,
      openTimeoutMs: config.limits.openTimeoutMs,
      maxPendingOpens: config.limits.maxPendingOpensPerAgent,
    },
    logger,
  );
  const guards = SessionGuards.fromConfig(config, tagged(logger, 'session'), access.metrics.guardrails);
  const broker = new SessionBroker({ registry, maxMessageBytes: config.dap.maxMessageBytes, logger, guards });
  const context: ListenerContext = {
    config,
    tls: { cert: tls.cert, key: tls.key, ...(access.clientCa !== undefined ? { clientCa: access.clientCa } : {}) },
    authenticator,
    authGate: access.authGate,
    registry,
    hub,
    broker,
    logger,
    authLogger: tagged(logger, 'auth'),
  };

  const listeners: RunningListener[] = [];
  const closeAll = async (): Promise<void> => {
    // Sessions first, while the agents' data connections are still up: each attached
    // session detaches its debugger so that no debuggee stays paused (design.md §5).
    await broker.close();
    hub.closeAll();
    await Promise.all(listeners.map((listener) => listener.close()));
  };
  let wss: RunningListener | undefined;
  let tcps: RunningListener | undefined;
  try {
    if (config.listeners.wss.enabled) listeners.push((wss = await startHttpsListener(context, config.listeners.wss)));
    if (config.listeners.tcps.enabled) listeners.push((tcps = await startTcpsListener(context, config.listeners.tcps)));
  } catch (error) {
    await closeAll();
    throw error;
  }
  tagged(logger, 'relay').info(
    { wss: wss?.address.url, tcps: tcps?.address.url, caFingerprint: tls.caFingerprint, tlsSource: tls.source },
    'relay listening',
  );

  let closing: Promise<void> | undefined;
  const { cert: _cert, key: _key, ...tlsInfo } = tls;
  return {
    wssAddress: wss?.address,
    tcpsAddress: tcps?.address,
    registry,
    tls: tlsInfo,
    secretFile: secret.source === 'file' ? secret.file : undefined,
    metrics: access.metrics,
    close: () => (closing ??= closeAll().then(() => tagged(logger, 'relay').info('relay stopped'))),
  };
}
