import { RelayError } from '../common/relayError.js';
import type { RelayConfig } from '../config/configSchema.js';
import { parseTargetUrl, type ConfiguredTargetScheme, type TargetConfig, type TargetUrl } from '../config/targetsConfigSchema.js';
import type { Logger } from '../log/logger.js';
import type { RelayMetrics } from '../metrics/relayMetrics.js';
import { sshTargetDialer } from '../ssh/sshTargetDialer.js';
import { DialedEndpoint, type AdapterDial } from './dialedEndpoint.js';
import { dialTcpAdapter } from './tcpTarget.js';
import { hostPort } from '../common/hostPort.js';
import { directTargetDialer } from './directTarget.js';
import type { ProvidedTarget, TargetRegistry } from './targetRegistry.js';

/** What a scheme's dialer is given to build a configured target. */
export interface ConfiguredTargetContext {
  readonly name: string;
  readonly config: TargetConfig;
  readonly url: TargetUrl;
  readonly relayConfig: RelayConfig;
  readonly logger: Logger;
  /** The relay's metrics (e.g. `dbgrelay_ssh_connections`), when it keeps any. */
  readonly metrics?: RelayMetrics;
}

/** How one URL scheme reaches an adapter: the dial function, what to list, and what to release. */
export interface SchemeDialer {
  readonly dial: AdapterDial;
  /** Listing fields; `address` never carries a credential. */
  readonly describe: Pick<ProvidedTarget, 'host' | 'transport' | 'address'>;
  readonly close?: () => void;
}

/** Builds the dialer of a configured target of one scheme; throws `CONFIG_INVALID` naming the key. */
export type SchemeDialerFactory = (context: ConfiguredTargetContext) => SchemeDialer;

const kindOf: Record<ConfiguredTargetScheme, ProvidedTarget['kind']> = { tcp: 'tcp', tcps: 'direct', ssh: 'ssh' };

/** `tcp://host:port`: debugpy on loopback beside the relay (a sidecar). */
const tcpDialer: SchemeDialerFactory = ({ url }) => {
  const port = url.port!;
  return {
    dial: (signal) => dialTcpAdapter(url.host, port, signal),
    describe: { host: url.host, transport: 'tcp', address: `tcp://${hostPort(url.host, port)}` },
  };
};

const factories = new Map<ConfiguredTargetScheme, SchemeDialerFactory>([
  ['tcp', tcpDialer],
  ['ssh', sshTargetDialer],
  ['tcps', directTargetDialer],
]);

/** Adds (or replaces) the dialer of a scheme (`ssh://`, `tcps://` support register theirs). */
export function registerSchemeDialer(scheme: ConfiguredTargetScheme, factory: SchemeDialerFactory): void {
  factories.set(scheme, factory);
}


/** A configured target built from its config entry, not yet in the registry. */
export interface BuiltConfiguredTarget {
  readonly target: ProvidedTarget;
  readonly endpoint: DialedEndpoint;
}

/**
 * Builds the provided target and endpoint of one `targets.<name>` entry without adding
 * it anywhere. Throws `CONFIG_INVALID` naming the key when it cannot be set up.
 */
export function buildConfiguredTarget(name: string, targetConfig: RelayConfig['targets'][string], config: RelayConfig, logger: Logger, metrics?: RelayMetrics): BuiltConfiguredTarget {
  const url = parseTargetUrl(targetConfig.url);
  if (typeof url === 'string') throw new RelayError('CONFIG_INVALID', `targets.${name}.url: ${url}`);
  const factory = factories.get(url.scheme);
  if (!factory) throw new RelayError('CONFIG_INVALID', `targets.${name}.url: ${url.scheme}:// targets are not supported by this build`);
  const dialer = factory({ name, config: targetConfig as TargetConfig, url, relayConfig: config, logger, ...(metrics ? { metrics } : {}) });
  const endpoint = new DialedEndpoint(dialer.dial, {
    openTimeoutMs: config.limits.openTimeoutMs,
    ...(targetConfig.adapterSettleMs !== undefined ? { adapterSettleMs: targetConfig.adapterSettleMs } : {}),
    ...(dialer.close ? { onClose: dialer.close } : {}),
  });
  return {
    target: { name, kind: kindOf[url.scheme], ...dialer.describe, ...(targetConfig.labels ? { labels: { ...targetConfig.labels } } : {}) },
    endpoint,
  };
}

/**
 * Adds every `targets.*` entry of `config` to `registry` as a provided target the
 * relay dials on each attach. Returns the function that removes and closes them.
 * Throws `CONFIG_INVALID` (naming the key) when a target cannot be set up, after
 * closing those already added.
 */
export function provideConfiguredTargets(registry: TargetRegistry, config: RelayConfig, logger: Logger, metrics?: RelayMetrics): () => void {
  const removals: Array<() => void> = [];
  const closeAll = (): void => {
    for (const remove of removals.splice(0)) remove();
  };
  try {
    for (const [name, targetConfig] of Object.entries(config.targets)) {
      const { target, endpoint } = buildConfiguredTarget(name, targetConfig, config, logger, metrics);
      let remove: () => boolean;
      try {
        remove = registry.provide(target, endpoint);
      } catch (error) {
        endpoint.close();
        throw error;
      }
      removals.push(() => {
        remove();
        endpoint.close();
      });
      logger.info({ target: name, kind: target.kind, address: target.address }, 'configured target');
    }
  } catch (error) {
    closeAll();
    throw error;
  }
  return closeAll;
}
