import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import { AttachSecret } from '../auth/attachSecret.js';
import type { Principal } from '../auth/principal.js';
import { hostPort } from '../common/hostPort.js';
import type { RelayConfig } from '../config/configSchema.js';
import type { PageRequest, TargetPage } from '../listeners/targetListing.js';
import { tagged, type Logger } from '../log/logger.js';
import type { ListenAddress, RunningListener } from '../net/serverSockets.js';
import type { TargetInfo } from '../protocol/controlMessages.js';
import type { SessionBroker } from '../session/sessionBroker.js';
import type { AgentConnection } from '../agents/agentConnection.js';
import type { AgentHub } from '../agents/agentHub.js';
import type { TargetRegistry } from '../targets/targetRegistry.js';
import { clusterTargetPage } from './clusterListing.js';
import { ClusterMetrics } from './clusterMetrics.js';
import { routeOrUnavailable } from './clusterStore.js';
import { startPeerListener } from './peerListener.js';
import { loadPeerTls } from './peerTls.js';
import { RedisClusterStore } from './redisClusterStore.js';
import { SessionRouter } from './sessionRouter.js';
import { TargetDirectory } from './targetDirectory.js';

/** This instance's part in a cluster of relays. */
export interface ClusterNode {
  readonly instanceId: string;
  /** Opens sessions: local targets through the broker, the others forwarded to their holder. */
  readonly router: SessionRouter;
  /** Address of the peer listener. */
  readonly peerAddress: ListenAddress;
  /**
   * The attach secret of a target another instance holds (undefined when none or no
   * such target). Throws `CLUSTER_UNAVAILABLE` when the store cannot say, so that a
   * good secret is not refused (and counted as a guess) during an outage.
   */
  attachSecretOf(target: string): Promise<AttachSecret | undefined>;
  /** A page of the whole cluster's targets. */
  targetPage(principal: Principal, local: readonly TargetInfo[], request: PageRequest): Promise<TargetPage>;
  /** Releases this instance's claims and membership, closes forwarded links, the peer listener and the store. */
  close(): Promise<void>;
}

/**
 * The store of `cluster.store.url`, made before the relay's access control so that
 * failure counts are shared (undefined for a relay alone). Nothing is dialed yet.
 */
export function clusterStoreFor(config: RelayConfig): RedisClusterStore | undefined {
  const { store, entryTtlMs } = config.cluster;
  if (store.url === undefined) return undefined;
  return new RedisClusterStore({
    url: store.url,
    keyPrefix: store.keyPrefix,
    commandTimeoutMs: store.commandTimeoutMs,
    instanceId: clusterInstanceId(config),
    entryTtlMs,
  });
}

/** `cluster.instanceId`, or the host name with a random suffix (one per process). */
export function clusterInstanceId(config: RelayConfig): string {
  return (
    config.cluster.instanceId ??
    (generatedId ??= `${hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 50)}-${randomBytes(3).toString('hex')}`)
  );
}
let generatedId: string | undefined;

/**
 * Starts this instance's part in the cluster: the peer listener, the store connection,
 * the directory that publishes local agents, and the router. Resolves while the store
 * may still be unreachable: the instance then serves its own targets and heals later.
 */
export async function startClusterNode(
  config: RelayConfig,
  store: RedisClusterStore,
  parts: { readonly broker: SessionBroker; readonly hub: AgentHub; readonly registry: TargetRegistry<AgentConnection> },
  registry: Registry,
  logger: Logger,
): Promise<ClusterNode> {
  const log = tagged(logger, 'cluster');
  const metrics = new ClusterMetrics(registry);
  const tls = loadPeerTls(config.cluster.peer, config.tls.clientCaFile);
  const instanceId = clusterInstanceId(config);
  const peerListener: RunningListener = await startPeerListener({
    host: config.cluster.peer.host,
    port: config.cluster.peer.port,
    tls,
    broker: parts.broker,
    hub: parts.hub,
    registry: parts.registry,
    heartbeatTimeoutMs: config.heartbeat.timeoutMs,
    handshakeTimeoutMs: config.limits.handshakeTimeoutMs,
    metrics,
    logger: log,
  });
  const advertise = config.cluster.peer.advertise ?? hostPort(hostname(), peerListener.address.port);
  store.announce(advertise);
  const directory = new TargetDirectory(store, parts.registry, Math.max(100, Math.floor(config.cluster.entryTtlMs / 3)), metrics, log);
  await store.connect();
  directory.start();
  const router = new SessionRouter({
    instanceId,
    registry: parts.registry,
    broker: parts.broker,
    store,
    tls,
    forwardTimeoutMs: config.cluster.forwardTimeoutMs,
    sessionAnswerTimeoutMs: config.cluster.forwardTimeoutMs + config.limits.openTimeoutMs + config.sessions.takeoverTimeoutMs,
    metrics,
    logger: log,
  });
  log.info({ instanceId, peer: peerListener.address.url, advertise, storeReachable: store.reachable }, 'cluster instance started');
  return {
    instanceId,
    router,
    peerAddress: peerListener.address,
    attachSecretOf: async (target) => {
      const route = await routeOrUnavailable(store, target);
      return route?.attachSecret === undefined ? undefined : AttachSecret.fromSharedForm(route.attachSecret);
    },
    targetPage: (principal, local, request) => clusterTargetPage(principal, local, store, request),
    close: async () => {
      router.close();
      await directory.close();
      await peerListener.close();
      await store.close();
    },
  };
}
