import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runDbgrelay, type CliProcess } from './cliProcess.js';

/** `dbgrelay serve` as its own process, so that a test can kill it with SIGKILL. */
export interface RelayProcess {
  readonly serve: CliProcess;
  readonly dataDir: string;
  readonly caFile: string;
  readonly secret: string;
  readonly wssUrl: string;
  readonly tcpsUrl: string;
  /** How a client (or agent) reaches it over `scheme`: URL, CA file and the relay secret. */
  access(scheme: 'wss' | 'tcps'): { relayUrl: string; caFile: string; secret: string };
  /** SIGKILL: no drain, no close frames; the kernel ends its connections. */
  kill9(): Promise<void>;
  /** Starts a new `dbgrelay serve` on the same ports and data directory. */
  restart(): Promise<RelayProcess>;
  /** SIGINT, then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts `dbgrelay serve --config FILE` (the CLI source through tsx) with `settings`
 * on top of a fresh data directory and loopback listeners on free ports; resolves
 * once both listeners are up. The child is added to `started` for the caller's cleanup.
 */
export async function startRelayProcess(
  settings: Record<string, unknown>,
  started: ChildProcess[],
  reuse?: { dataDir: string; wssPort: number; tcpsPort: number },
): Promise<RelayProcess> {
  const dataDir = reuse?.dataDir ?? mkdtempSync(join(tmpdir(), 'dbgrelay-chaos-'));
  const configFile = join(dataDir, 'config.yaml');
  const config = {
    ...settings,
    dataDir,
    listeners: { wss: { host: '127.0.0.1', port: reuse?.wssPort ?? 0 }, tcps: { host: '127.0.0.1', port: reuse?.tcpsPort ?? 0 } },
  };
  writeFileSync(configFile, stringify(config));
  const serve = runDbgrelay(['serve', '--config', configFile]);
  started.push(serve.child);
  const [, wssUrl] = await serve.waitFor(/wss\s+listening on (wss:\/\/127\.0\.0\.1:\d+)/, 30_000);
  const [, tcpsUrl] = await serve.waitFor(/tcps listening on (tcps:\/\/127\.0\.0\.1:\d+)/, 30_000);
  const relay: RelayProcess = {
    serve,
    dataDir,
    caFile: join(dataDir, 'ca.pem'),
    secret: readFileSync(join(dataDir, 'secret'), 'utf8').trim(),
    wssUrl: wssUrl!,
    tcpsUrl: tcpsUrl!,
    access: (scheme) => ({ relayUrl: scheme === 'wss' ? relay.wssUrl : relay.tcpsUrl, caFile: relay.caFile, secret: relay.secret }),
    kill9: async () => {
      if (serve.child.exitCode === null && serve.child.signalCode === null) serve.child.kill('SIGKILL');
      await serve.exited;
    },
    restart: () => startRelayProcess(settings, started, { dataDir, wssPort: Number(new URL(relay.wssUrl).port), tcpsPort: Number(new URL(relay.tcpsUrl).port) }),
    stop: () => serve.stop(),
  };
  return relay;
}
