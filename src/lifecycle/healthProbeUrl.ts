import { RelayError } from '../common/relayError.js';
import type { RelayConfig } from '../config/configSchema.js';

/** The probe paths a health check asks for: liveness (`/livez`) or readiness (`/readyz`). */
export type HealthProbePath = '/livez' | '/readyz';

/** The address to dial for a listener bound to `host`: the loopback of the same family for a wildcard. */
function dialHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * Where a health check on the relay's own host probes `path`: the main (wss) listener
 * when it is on (https, or http with `listeners.wss.tls: false`), else the metrics
 * listener (http). Throws `CONFIG_INVALID` when neither is on, or the port is 0
 * (chosen at start, so nobody else knows it).
 */
export function healthProbeUrl(config: RelayConfig, path: HealthProbePath): URL {
  const { wss } = config.listeners;
  let listener: { key: string; scheme: 'https' | 'http'; host: string; port: number };
  if (wss.enabled) listener = { key: 'listeners.wss.port', scheme: wss.tls ? 'https' : 'http', host: wss.host, port: wss.port };
  else if (config.metrics.enabled) listener = { key: 'metrics.port', scheme: 'http', host: config.metrics.host, port: config.metrics.port };
  else throw new RelayError('CONFIG_INVALID', 'listeners.wss.enabled and metrics.enabled are both false: no listener answers health probes');
  if (listener.port === 0) throw new RelayError('CONFIG_INVALID', `${listener.key}: 0 (any free port) cannot be probed; give the port the relay listens on`);
  return new URL(`${listener.scheme}://${dialHost(listener.host)}:${listener.port}${path}`);
}
