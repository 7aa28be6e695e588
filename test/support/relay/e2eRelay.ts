import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/loadConfig.js';
import { createLogger, type LoggerHandle } from '../../../src/log/logger.js';
import { startRelay, type RelayHandle } from '../../../src/relay/relayServer.js';

/** The real relay daemon, started in-process the way `dbgrelay serve` starts it. */
export interface E2eRelay {
  readonly handle: RelayHandle;
  readonly dataDir: string;
  /** The relay secret it created on first start (read from its 0600 file). */
  readonly secret: string;
  readonly caFile: string;
  readonly wssUrl: string;
  readonly tcpsUrl: string;
  /** How a client reaches it over `scheme`: URL, CA file and the relay secret. */
  access(scheme: 'wss' | 'tcps'): { relayUrl: string; caFile: string; secret: string };
  /** JSON log lines written so far. */
  logText(): string;
  /** Stops the relay (sessions and agent connections end). */
  stop(): Promise<void>;
  /** Starts a new relay on the same ports and data directory (a relay restart). */
  restart(): Promise<E2eRelay>;
}

/**
 * Starts the relay on 127.0.0.1 with a fresh data directory, so the development CA,
 * server certificate and secret are created exactly as on a first `npm start`.
 */
export async function startE2eRelay(options: { dataDir?: string; wssPort?: number; tcpsPort?: number; overrides?: Record<string, unknown> } = {}): Promise<E2eRelay> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'dbgrelay-e2e-'));
  const logFile = join(dataDir, 'relay.log');
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      listeners: { wss: { port: options.wssPort ?? 0 }, tcps: { port: options.tcpsPort ?? 0 } },
      agents: { heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 3000 },
      log: { level: 'debug' },
      ...options.overrides,
    },
  });
  const log: LoggerHandle = createLogger({ level: 'debug', file: logFile });
  const handle = await startRelay(config, { logger: log.logger });
  const wss = handle.wssAddress!;
  const tcps = handle.tcpsAddress!;
  const relay: E2eRelay = {
    handle,
    dataDir,
    secret: readFileSync(join(dataDir, 'secret'), 'utf8').trim(),
    caFile: join(dataDir, 'ca.pem'),
    wssUrl: `wss://127.0.0.1:${wss.port}`,
    tcpsUrl: `tcps://127.0.0.1:${tcps.port}`,
    access: (scheme) => ({ relayUrl: scheme === 'wss' ? relay.wssUrl : relay.tcpsUrl, caFile: relay.caFile, secret: relay.secret }),
    logText: () => readFileSync(logFile, 'utf8'),
    stop: async () => {
      await handle.close();
      log.close();
    },
    restart: async () => {
      await relay.stop();
      return startE2eRelay({ ...options, dataDir, wssPort: wss.port, tcpsPort: tcps.port });
    },
  };
  return relay;
}
