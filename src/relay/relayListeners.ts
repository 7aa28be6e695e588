import type { RelayConfig } from '../config/configSchema.js';
import type { Readiness } from '../lifecycle/readiness.js';
import { startHttpsListener } from '../listeners/httpsListener.js';
import type { ListenerContext } from '../listeners/listenerContext.js';
import { startMetricsListener } from '../listeners/metricsListener.js';
import { startTcpsListener } from '../listeners/tcpsListener.js';
import { tagged } from '../log/logger.js';
import { SshServerMetrics } from '../metrics/sshServerMetrics.js';
import type { RunningListener } from '../net/serverSockets.js';
import { startSshServer, type RunningSshServer } from '../sshServer/sshServer.js';
import type { RelayAccess } from './relayAccess.js';

/** The listeners a relay started; each is undefined when disabled in the configuration. */
export interface RelayListeners {
  readonly wss: RunningListener | undefined;
  readonly tcps: RunningListener | undefined;
  readonly metrics: RunningListener | undefined;
  readonly ssh: RunningSshServer | undefined;
}

/**
 * Starts the enabled listeners one after the other (wss, tcps, the SSH server, metrics),
 * adding each to `started` as soon as it listens, so that the caller can close those
 * already started when a later one fails (the listen error is thrown).
 */
export async function startRelayListeners(
  config: RelayConfig,
  context: ListenerContext,
  access: RelayAccess,
  readiness: Readiness,
  started: RunningListener[],
): Promise<RelayListeners> {
  const { logger, registry } = context;
  const add = <T extends RunningListener>(listener: T): T => {
    started.push(listener);
    return listener;
  };
  const wss = config.listeners.wss.enabled ? add(await startHttpsListener(context, config.listeners.wss, readiness)) : undefined;
  const tcps = config.listeners.tcps.enabled ? add(await startTcpsListener(context, config.listeners.tcps)) : undefined;
  const ssh = config.sshServer.enabled
    ? add(
        await startSshServer(config, {
          registry,
          logger: tagged(logger, 'ssh'),
          metrics: access.metrics.ssh,
          serverMetrics: new SshServerMetrics(access.metrics.registry),
        }),
      )
    : undefined;
  let metrics: RunningListener | undefined;
  if (config.metrics.enabled) {
    const metricsOptions = { config: config.metrics, registry: access.metrics.registry, readiness, requestTimeoutMs: config.limits.handshakeTimeoutMs };
    metrics = add(await startMetricsListener({ ...metricsOptions, logger: tagged(logger, 'relay') }));
  }
  return { wss, tcps, metrics, ssh };
}
