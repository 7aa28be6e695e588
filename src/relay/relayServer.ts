import { prepareDapRequestValidation } from '../dap/requestSchema.js';
import type { RelayConfig } from '../config/configSchema.js';
import { tagged, type Logger } from '../log/logger.js';
import type { AgentConnection } from '../agents/agentConnection.js';
import type { TargetRegistry } from '../targets/targetRegistry.js';
import { ConfiguredTargetSet } from '../targets/configuredTargetSet.js';
import { drainRelay } from '../lifecycle/relayDrain.js';
import { Readiness } from '../lifecycle/readiness.js';
import type { ReloadableTlsServer } from '../listeners/listenerContext.js';
import type { RelayMetrics } from '../metrics/relayMetrics.js';
import type { ListenAddress, RunningListener } from '../net/serverSockets.js';
import { createRelayAccess } from './relayAccess.js';
import { loadRelayCredentials } from './relayCredentials.js';
import { startRelayListeners, type RelayListeners } from './relayListeners.js';
import { buildRelayParts, listenerContextFor } from './relayParts.js';
import { RelayReloader, type ReloadResult } from './relayReloader.js';
import type { TlsMaterial } from './tlsMaterial.js';
import { peerCertificates, reloadableCertificates } from './certificatesInForce.js';
import { clusterStoreFor, startClusterNode, type ClusterNode } from '../cluster/clusterNode.js';

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
  /** Address of the peer listener of several instances (`cluster.*`), undefined for a relay alone. */
  readonly peerAddress: ListenAddress | undefined;
  /** This instance's id among several (`cluster.instanceId`), undefined for a relay alone. */
  readonly instanceId: string | undefined;
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

export async function startRelay(config: RelayConfig, options: RelayOptions): Promise<RelayHandle> {
  const { logger } = options;
  const credentials = loadRelayCredentials(config, logger, options.onSecretCreated);
  const { secret, authenticator, tls } = credentials;
  // Several instances (cluster.store.url): failure counts are shared through the store.
  const store = clusterStoreFor(config);
  const access = createRelayAccess(config, logger, store);
  const parts = buildRelayParts(config, logger, access);
  const { lifecycleMetrics, lifecycle, guards, registry, hub, broker } = parts;
  access.metrics.pauses.observe(() => broker.pausedSince());
  const tlsServers: ReloadableTlsServer[] = [];
  let cluster: ClusterNode | undefined;
  if (store) {
    try {
      cluster = await startClusterNode(config, store, parts, access.metrics.registry, logger);
    } catch (error) {
      await store.close();
      await broker.close();
      throw error;
    }
  }
  const context = listenerContextFor(config, logger, credentials, access, parts, tlsServers, cluster);

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
    await cluster?.close(); // releases this instance's claims, closes the sessions it forwarded
    hub.closeAll();
    configuredTargets.close();
    await Promise.all(listeners.map((listener) => listener.close()));
  };
  let started: RelayListeners;
  try {
    started = await startRelayListeners(config, context, access, readiness, listeners);
  } catch (error) {
    await closeAll();
    throw error;
  }
  const { wss, tcps, metrics: metricsListener, ssh: sshServer } = started;
  tagged(logger, 'relay').info(
    {
      wss: wss?.address.url,
      tcps: tcps?.address.url,
      metrics: metricsListener?.address.url,
      caFingerprint: tls.caFingerprint,
      ...(cluster ? { instance: cluster.instanceId, peer: cluster.peerAddress.url } : {}),
      tlsSource: tls.source,
      ...(sshServer ? { ssh: sshServer.address.url, sshHostKeyFingerprint: sshServer.hostKey.fingerprint } : {}),
    },
    'relay listening',
  );

  readiness.markListening();
  let closing: Promise<void> | undefined;
  let draining: Promise<void> | undefined;
  const cutShort = new AbortController();
  // Certificate expiry: the peer link's files change only with a restart, the rest on every reload.
  const peerSeries = peerCertificates(config);
  const showCertificates = (inForce: RelayConfig, material: TlsMaterial, clientCa: string | undefined): void =>
    access.metrics.certificates.show([...reloadableCertificates(inForce, material, clientCa), ...peerSeries]);
  showCertificates(config, tls, access.clientCa);
  const reloader = new RelayReloader(config, secret, tls, {
    authenticator,
    guards,
    lifecycle,
    targets: configuredTargets,
    tlsServers,
    metrics: lifecycleMetrics,
    showCertificates,
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
    peerAddress: cluster?.peerAddress,
    instanceId: cluster?.instanceId,
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
        {
          readiness,
          lifecycle,
          hub,
          broker,
          logger: tagged(logger, 'relay'),
          detachTimeoutMs: reloader.config.sessions.detachTimeoutMs,
          goawayRetryAfterMs: reloader.config.lifecycle.goawayRetryAfterMs,
          close,
        },
        graceMs ?? reloader.config.lifecycle.drainGraceMs,
        cutShort.signal,
      )),
    close,
  };
}
