import type { RelayConfig } from '../config/configSchema.js';
import type { TargetConfig, TargetUrl } from '../config/targetsConfigSchema.js';
import type { Logger } from '../log/logger.js';
import type { RelayMetrics } from '../metrics/relayMetrics.js';
import type { AdapterDial } from './dialedEndpoint.js';
import type { ProvidedTarget } from './targetRegistry.js';

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
