import { RelayError } from '../common/relayError.js';
import type { RelayConfig } from '../config/configSchema.js';
import { parseTargetUrl, type ConfiguredTargetScheme, type TargetConfig } from '../config/targetsConfigSchema.js';
import type { Logger } from '../log/logger.js';
import type { RelayMetrics } from '../metrics/relayMetrics.js';
import { sshTargetDialer } from './sshTargetDialer.js';
import { DialedEndpoint } from './dialedEndpoint.js';
import type { SchemeDialerFactory } from './schemeDialer.js';
import { dialTcpAdapter } from './tcpTarget.js';
import { hostPort } from '../common/hostPort.js';
import { directTargetDialer } from './directTarget.js';
import type { ProvidedTarget } from './targetRegistry.js';

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

/** A configured target built from its config entry, not yet in the registry. */
export interface BuiltConfiguredTarget {
  readonly target: ProvidedTarget;
  readonly endpoint: DialedEndpoint;
}

/**
 * Builds the provided target and endpoint of one `targets.<name>` entry without adding
 * it anywhere. Throws `CONFIG_INVALID` naming the key when it cannot be set up.
 */
export function buildConfiguredTarget(
  name: string,
  targetConfig: RelayConfig['targets'][string],
  config: RelayConfig,
  logger: Logger,
  metrics?: RelayMetrics,
): BuiltConfiguredTarget {
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
