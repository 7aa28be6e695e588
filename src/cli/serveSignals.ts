import type { RelayConfig } from '../config/configSchema.js';
import { RelayError } from '../common/relayError.js';
import { tagged, type Logger } from '../log/logger.js';
import type { RelayHandle } from '../relay/relayServer.js';
import { writeReloadStatus } from '../lifecycle/runFiles.js';

/** What {@link handleServeSignals} needs. */
export interface ServeSignalOptions {
  readonly relay: RelayHandle;
  readonly logger: Logger;
  /** Loads the configuration again from the same sources (file, environment, the original flags). */
  readonly loadConfig: () => RelayConfig;
  /** Where the reload outcome is recorded (the data directory the relay started with). */
  readonly dataDir: string;
  /** Writes a line for the operator. */
  readonly say: (line: string) => void;
}

/**
 * The signals of `dbgrelay serve` (docs/operations.md "Reload", "Drain and shutdown"):
 * `SIGHUP` reloads the configuration and records the outcome in
 * `<dataDir>/reload-status.json`; `SIGTERM` drains (a second `SIGTERM`, or `SIGINT`,
 * stops at once). Resolves when the relay is closed.
 */
export function handleServeSignals(options: ServeSignalOptions): Promise<void> {
  const { relay, say } = options;
  const log = tagged(options.logger, 'relay');
  let reloads = 0;
  const reload = (): void => {
    reloads += 1;
    const base = { pid: process.pid, count: reloads, at: new Date().toISOString() };
    try {
      const result = relay.reload(options.loadConfig);
      writeReloadStatus(options.dataDir, { ...base, outcome: 'applied', ...result });
      say(`dbgrelay: configuration reloaded${result.needsRestart.length > 0 ? `; needs a restart: ${result.needsRestart.join(', ')}` : ''}`);
    } catch (error) {
      const relayError = error instanceof RelayError ? error : new RelayError('INTERNAL', 'reload failed');
      writeReloadStatus(options.dataDir, { ...base, outcome: 'refused', error: { code: relayError.code, message: relayError.message } });
      say(`dbgrelay: reload refused: ${relayError.message} (${relayError.code})`);
    }
  };
  return new Promise<void>((resolve) => {
    let stopping = false;
    const done = (): void => {
      for (const [signal, handler] of handlers) process.off(signal, handler);
      resolve();
    };
    const terminate = (signal: NodeJS.Signals): void => {
      if (stopping || signal === 'SIGINT') {
        log.info({ signal }, 'shutting down now');
        void relay.close().then(done, done);
        return;
      }
      stopping = true;
      log.info({ signal, graceMs: relay.config.lifecycle.drainGraceMs }, 'draining before shutdown');
      void relay.drain().then(done, done);
    };
    const handlers: Array<[NodeJS.Signals, (signal: NodeJS.Signals) => void]> = [
      ['SIGHUP', reload],
      ['SIGTERM', terminate],
      ['SIGINT', terminate],
    ];
    for (const [signal, handler] of handlers) process.on(signal, handler);
  });
}
