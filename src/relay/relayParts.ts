import type { AgentConnection } from '../agents/agentConnection.js';
import { AgentHub } from '../agents/agentHub.js';
import type { RelayConfig } from '../config/configSchema.js';
import { LifecycleState } from '../lifecycle/lifecycleLimits.js';
import { relayJsonDepthBounds, type RelayJsonDepthBounds } from '../listeners/jsonDepthBounds.js';
import type { ListenerContext, ReloadableTlsServer } from '../listeners/listenerContext.js';
import { tagged, type Logger } from '../log/logger.js';
import { HeartbeatMetrics } from '../metrics/heartbeatMetrics.js';
import { JsonDepthMetrics } from '../metrics/jsonDepthMetrics.js';
import { LifecycleMetrics } from '../metrics/lifecycleMetrics.js';
import { preAuthGateFor } from '../net/preAuthGate.js';
import { SessionBroker } from '../session/sessionBroker.js';
import { SessionGuards } from '../session/sessionGuards.js';
import { SessionLedger } from '../session/sessionLedger.js';
import { TargetRegistry } from '../targets/targetRegistry.js';
import type { RelayAccess } from './relayAccess.js';
import type { RelayCredentials } from './relayCredentials.js';
import { clusterInstanceId, type ClusterNode } from '../cluster/clusterNode.js';
import type { Principal } from '../auth/principal.js';
import { targetPage, visibleTargets } from '../listeners/targetListing.js';
import { webConsoleFor } from '../console/consoleSetup.js';

/** The parts of a running relay that hold agents, targets and sessions. */
export interface RelayParts {
  readonly lifecycleMetrics: LifecycleMetrics;
  /** The `limits.*` in force and the draining state. */
  readonly lifecycle: LifecycleState;
  readonly guards: SessionGuards;
  readonly registry: TargetRegistry<AgentConnection>;
  readonly hub: AgentHub;
  readonly broker: SessionBroker;
  /** Every JSON text from the network is refused past `limits.maxJsonDepth` levels before it is parsed. */
  readonly jsonDepth: RelayJsonDepthBounds;
}

/** Builds the agent hub, the target registry and the session broker of a relay, with their limits and guards. */
export function buildRelayParts(config: RelayConfig, logger: Logger, access: RelayAccess): RelayParts {
  const lifecycleMetrics = new LifecycleMetrics(access.metrics.registry);
  const { maxAgents, maxAgentsPerPrincipal, maxSessionsPerPrincipal, maxSessionsPerTarget, sessionIdleTimeoutMs } = config.limits;
  const lifecycle = new LifecycleState({ maxAgents, maxAgentsPerPrincipal, maxSessionsPerPrincipal, maxSessionsPerTarget, sessionIdleTimeoutMs }, (limit) =>
    limit === 'draining' ? lifecycleMetrics.drainRefusals.inc() : lifecycleMetrics.limitRefusals.inc({ limit }),
  );
  const guards = SessionGuards.fromConfig(config, tagged(logger, 'session'), access.metrics.guardrails);
  // The one table of client sessions: limits, target listings, retirement and the active-sessions gauge count from it.
  const sessions = new SessionLedger();
  const registry = new TargetRegistry<AgentConnection>(sessions);
  const hub = new AgentHub(
    registry,
    {
      handshakeTimeoutMs: config.limits.handshakeTimeoutMs,
      heartbeatIntervalMs: config.agents.heartbeatIntervalMs,
      heartbeatTimeoutMs: config.agents.heartbeatTimeoutMs,
      openTimeoutMs: config.limits.openTimeoutMs,
      maxPendingOpens: config.limits.maxPendingOpensPerAgent,
      minAttachSecretLength: config.auth.attachSecrets.minLength,
      ...(config.cluster.store.url !== undefined ? { instanceId: clusterInstanceId(config) } : {}),
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
    ledger: sessions,
    maxMessageBytes: config.dap.maxMessageBytes,
    jsonDepth: jsonDepth.dap,
    logger,
    guards,
    metrics: access.metrics.sessions,
    lifecycle,
    onIdleTimeout: () => lifecycleMetrics.idleTimeouts.inc(),
    // half a DAP message at most: the event that carries the answers must stay under dap.maxMessageBytes
    ...(config.dap.prefetch.maxBytesPerStop > 0
      ? { prefetch: { maxBytes: Math.min(config.dap.prefetch.maxBytesPerStop, Math.floor(config.dap.maxMessageBytes / 2)), maxHoldMs: config.dap.prefetch.maxHoldMs } }
      : {}),
  });
  return { lifecycleMetrics, lifecycle, guards, registry, hub, broker, jsonDepth };
}

/**
 * What every listener shares; `tlsServers` collects their TLS servers so that a reload
 * can give them a new certificate. With `cluster`, sessions and listings span every instance.
 */
export function listenerContextFor(
  config: RelayConfig,
  logger: Logger,
  { authenticator, tls }: RelayCredentials,
  access: RelayAccess,
  { registry, hub, broker, jsonDepth, guards }: RelayParts,
  tlsServers: ReloadableTlsServer[],
  cluster?: ClusterNode,
): ListenerContext {
  const heartbeatMetrics = new HeartbeatMetrics(access.metrics.registry);
  const webConsole = webConsoleFor(config, broker, guards.audit, access.metrics.registry, logger, authenticator);
  return {
    config,
    tls: { cert: tls.cert, key: tls.key, ...(access.clientCa !== undefined ? { clientCa: access.clientCa } : {}) },
    authenticator,
    authGate: access.authGate,
    registry,
    hub,
    broker,
    sessions: cluster?.router ?? broker,
    ...(cluster
      ? {
          attachSecretElsewhere: (target: string) => cluster.attachSecretOf(target),
          handOverAgentData: (sessionId: string, principal: Principal, heartbeatMs: number | undefined) => cluster.router.handOverAgentData(sessionId, principal, heartbeatMs),
        }
      : {}),
    targetPage: async (principal, request) => (cluster ? cluster.targetPage(principal, registry.list(), request) : targetPage(visibleTargets(principal, registry.list()), request)),
    logger,
    authLogger: tagged(logger, 'auth'),
    onTlsServer: (server) => tlsServers.push(server),
    onHeartbeatMissed: (via) => {
      heartbeatMetrics.misses.labels(via).inc();
      tagged(logger, 'session').info({ via }, 'connection closed as half-open: heartbeat deadline passed');
    },
    jsonDepth,
    preAuth: preAuthGateFor(config, access.metrics.registry),
    ...(webConsole ? { console: webConsole } : {}),
  };
}
