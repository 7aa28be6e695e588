import { chmodSync, mkdirSync } from 'node:fs';
import { prepareDapRequestValidation } from '../dap/requestSchema.js';
import { AuthenticatorHolder } from '../auth/authenticatorHolder.js';
import { resolveRelaySecret } from '../auth/relaySecret.js';
import { RelayError } from '../common/relayError.js';
import type { RelayConfig } from '../config/configSchema.js';
import { tagged, type Logger } from '../log/logger.js';
import type { AgentConnection } from '../agents/agentConnection.js';
import { TargetRegistry } from '../targets/targetRegistry.js';
import { ConfiguredTargetSet } from '../targets/configuredTargetSet.js';
import { LifecycleMetrics } from '../metrics/lifecycleMetrics.js';
import { LifecycleState } from '../lifecycle/lifecycleLimits.js';
import { drainRelay } from '../lifecycle/relayDrain.js';
import { buildAuthenticator, RelayReloader, type ReloadResult } from './relayReloader.js';
import { HeartbeatMetrics } from '../metrics/heartbeatMetrics.js';
import { JsonDepthMetrics } from '../metrics/jsonDepthMetrics.js';
import { relayJsonDepthBounds } from '../listeners/jsonDepthBounds.js';
import type { RelayMetrics } from '../metrics/relayMetrics.js';
import { AgentHub } from '../agents/agentHub.js';
import { startHttpsListener } from '../listeners/httpsListener.js';
import { startMetricsListener } from '../listeners/metricsListener.js';
import { Readiness } from '../lifecycle/readiness.js';
import type { ListenerContext, ReloadableTlsServer } from '../listeners/listenerContext.js';
import type { ListenAddress, RunningListener } from '../net/serverSockets.js';
import { SessionBroker } from '../session/sessionBroker.js';
import { SessionGuards } from '../session/sessionGuards.js';
import { startTcpsListener } from '../listeners/tcpsListener.js';
import { preAuthGateFor } from '../net/preAuthConnections.js';
import { createRelayAccess } from './relayAccess.js';
import { loadTlsMaterial, type TlsMaterial } from './tlsMaterial.js';
import { startSshServer, type RunningSshServer } from '../sshServer/sshServer.js';
import { SshServerMetrics } from '../metrics/sshServerMetrics.js';

export type { ListenAddress } from '../net/serverSockets.js';
export type { ReloadResult } from './relayReloader.js';

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
  /** Address of the SSH server for `ssh -R` targets (`sshServer.*`), undefined when disabled. */
  readonly sshAddress: ListenAddress | undefined;
  /** `SHA256:` fingerprint of the SSH server's host key, undefined when disabled. */
  readonly sshHostKeyFingerprint: string | undefined;
  readonly registry: TargetRegistry<AgentConnection>;
  /** The certificate the relay presents and its fingerprints (the reloaded one after a reload). */
  readonly tls: Omit<TlsMaterial, 'key' | 'cert'>;
  /** The secret file in use, or undefined when the secret comes from `DBGRELAY_SECRET`. */
  readonly secretFile: string | undefined;
  /** This instance's metrics; `metrics.registry` is its own prom-client registry. */
  readonly metrics: RelayMetrics;
  /** Address of the metrics listener (`/metrics`, `/healthz`, `/readyz`), undefined when disabled. */
  readonly metricsAddress: ListenAddress | undefined;
  /** True when `/readyz` answers 200: listening, not draining, not closed. */
  readonly ready: boolean;
  /** Starts draining (`/readyz` answers 503), or ends it with `false`; sessions are not touched. */
  setDraining(draining?: boolean): void;
  /** The configuration in force (after reloads; keys that need a restart keep their start values). */
  readonly config: RelayConfig;
  /**
   * Applies a new configuration (or the one `next()` loads) for new connections and sessions without dropping
   * running ones (docs/operations.md "Reload"). Throws `CONFIG_INVALID` naming the key
   * when it cannot be applied; the running configuration then stays in force.
   */
  reload(next: RelayConfig | (() => RelayConfig)): ReloadResult;
  /**
   * Drains and closes (docs/operations.md "Drain and shutdown"): not ready at once, new
   * agents and sessions refused with `RELAY_DRAINING`, agents sent `goaway`, sessions
   * told when they will be detached; after `graceMs` (default `lifecycle.drainGraceMs`)
   * or when the last session ended, closes like {@link close}. Calling {@link close}
   * meanwhile ends the grace period at once.
   */
  drain(graceMs?: number): Promise<void>;
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
  // Listeners consult the holder for every connection; a reload swaps what it holds.
  const authenticator = new AuthenticatorHolder(buildAuthenticator(secret.secret, config, logger));
  if (config.auth.jwt.enabled) {
    const { algorithms, issuer, audience, keyFile, jwksFile, jwksUrl, maxLifetimeS } = config.auth.jwt;
    configLog.info({ algorithms, issuer, audience, keyFile, jwksFile, jwksUrl, maxLifetimeS }, 'JWT bearer tokens enabled');
  }
  const tls = loadTlsMaterial(config);
  if (tls.created) tagged(logger, 'tls').info({ caFile: tls.caFile, caFingerprint: tls.caFingerprint }, 'created development CA and server certificate');
  const access = createRelayAccess(config, logger);

  const lifecycleMetrics = new LifecycleMetrics(access.metrics.registry);
  const { maxAgents, maxAgentsPerPrincipal, maxSessionsPerPrincipal, maxSessionsPerTarget, sessionIdleTimeoutMs } = config.limits;
  const lifecycle = new LifecycleState({ maxAgents, maxAgentsPerPrincipal, maxSessionsPerPrincipal, maxSessionsPerTarget, sessionIdleTimeoutMs }, (limit) =>
    limit === 'draining' ? lifecycleMetrics.drainRefusals.inc() : lifecycleMetrics.limitRefusals.inc({ limit }),
  );
  const guards = SessionGuards.fromConfig(config, tagged(logger, 'session'), access.metrics.guardrails);
  const registry = new TargetRegistry<AgentConnection>();
  const hub = new AgentHub(
    registry,
    {
      handshakeTimeoutMs: config.limits.handshakeTimeoutMs,
      heartbeatIntervalMs: config.agents.heartbeatIntervalMs,
      heartbeatTimeoutMs: config.agents.heartbeatTimeoutMs,
      openTimeoutMs: config.limits.openTimeoutMs,
      maxPendingOpens: config.limits.maxPendingOpensPerAgent,
      minAttachSecretLength: config.auth.attachSecrets.minLength,
    },
    logger,
    access.metrics.agents,
    lifecycle,
    guards.audit,
  );
  // Every JSON text from the network is refused past limits.maxJsonDepth levels before it is parsed.
  const jsonDepth = relayJsonDepthBounds(config.limits.maxJsonDepth, new JsonDepthMetrics(access.metrics.registry));
  const broker = new SessionBroker({
    registry,
    maxMessageBytes: config.dap.maxMessageBytes,
    jsonDepth: jsonDepth.dap,
    logger,
    guards,
    metrics: access.metrics.sessions,
    lifecycle,
    onIdleTimeout: () => lifecycleMetrics.idleTimeouts.inc(),
  });
  const tlsServers: ReloadableTlsServer[] = [];
  const heartbeatMetrics = new HeartbeatMetrics(access.metrics.registry);
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
    onTlsServer: (server) => tlsServers.push(server),
    onHeartbeatMissed: (via) => {
      heartbeatMetrics.misses.labels(via).inc();
      tagged(logger, 'session').info({ via }, 'connection closed as half-open: heartbeat deadline passed');
    },
    jsonDepth,
    preAuth: preAuthGateFor(config, access.metrics.registry),
  };

  // The DAP schema is compiled before any session needs it.
  prepareDapRequestValidation();
  // Configured targets (targets.*) are in the registry before any listener accepts.
  const configuredTargets = new ConfiguredTargetSet(registry, tagged(logger, 'targets'), access.metrics);
  configuredTargets.start(config);
  const listeners: RunningListener[] = [];
  const readiness = new Readiness();
  const closeAll = async (): Promise<void> => {
    readiness.markClosed();
    // Sessions first, while the agents' data connections are still up: each attached
    // session detaches its debugger so that no debuggee stays paused.
    await broker.close();
    hub.closeAll();
    configuredTargets.close();
    await Promise.all(listeners.map((listener) => listener.close()));
  };
  let wss: RunningListener | undefined;
  let tcps: RunningListener | undefined;
  let metricsListener: RunningListener | undefined;
  let sshServer: RunningSshServer | undefined;
  try {
    if (config.listeners.wss.enabled) listeners.push((wss = await startHttpsListener(context, config.listeners.wss)));
    if (config.listeners.tcps.enabled) listeners.push((tcps = await startTcpsListener(context, config.listeners.tcps)));
    if (config.sshServer.enabled) listeners.push((sshServer = await startSshServer(config, {
          registry,
          logger: tagged(logger, 'ssh'),
          metrics: access.metrics.ssh,
          serverMetrics: new SshServerMetrics(access.metrics.registry),
        })));
    if (config.metrics.enabled) {
      const metricsOptions = { config: config.metrics, registry: access.metrics.registry, readiness, requestTimeoutMs: config.limits.handshakeTimeoutMs };
      listeners.push((metricsListener = await startMetricsListener({ ...metricsOptions, logger: tagged(logger, 'relay') })));
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  tagged(logger, 'relay').info(
    {
      wss: wss?.address.url,
      tcps: tcps?.address.url,
      metrics: metricsListener?.address.url,
      caFingerprint: tls.caFingerprint,
      tlsSource: tls.source,
      ...(sshServer ? { ssh: sshServer.address.url, sshHostKeyFingerprint: sshServer.hostKey.fingerprint } : {}),
    },
    'relay listening',
  );

  readiness.markListening();
  let closing: Promise<void> | undefined;
  let draining: Promise<void> | undefined;
  const cutShort = new AbortController();
  const reloader = new RelayReloader(config, secret, tls, {
    authenticator,
    guards,
    lifecycle,
    targets: configuredTargets,
    tlsServers,
    metrics: lifecycleMetrics,
    logger,
  });
  const close = (): Promise<void> => {
    cutShort.abort();
    return (closing ??= closeAll().then(() => tagged(logger, 'relay').info('relay stopped')));
  };
  return {
    wssAddress: wss?.address,
    tcpsAddress: tcps?.address,
    sshAddress: sshServer?.address,
    sshHostKeyFingerprint: sshServer?.hostKey.fingerprint,
    registry,
    get tls() {
      return reloader.tls;
    },
    secretFile: secret.source === 'file' ? secret.file : undefined,
    metrics: access.metrics,
    metricsAddress: metricsListener?.address,
    get ready() {
      return readiness.ready;
    },
    setDraining: (draining = true) => readiness.setDraining(draining),
    get config() {
      return reloader.config;
    },
    reload: (next) => reloader.reload(next),
    drain: (graceMs) =>
      (draining ??= drainRelay(
        { readiness, lifecycle, hub, broker, logger: tagged(logger, 'relay'), detachTimeoutMs: reloader.config.sessions.detachTimeoutMs, close },
        graceMs ?? reloader.config.lifecycle.drainGraceMs,
        cutShort.signal,
      )),
    close,
  };
}
