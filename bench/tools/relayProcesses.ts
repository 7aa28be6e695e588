import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { builtCli, runDbgrelay, type CliProcess } from '../../test/support/processes/cliProcess.js';

/**
 * Directory that keeps the output of every `dbgrelay` process the benchmark starts
 * (`serve-N.log`, `attach-TARGET.log`), for reading after a failed run.
 */
export const benchLogDir = mkdtempSync(join(tmpdir(), 'dbgrelay-bench-logs-'));

/**
 * Runs the built `dbgrelay` (as `npm start` does) as its own process, its output kept
 * in {@link benchLogDir}. `BENCH_NODE_ARGS` (e.g. `--cpu-prof --cpu-prof-dir=DIR`)
 * passes flags to Node, to profile the relay and `dbgrelay attach`.
 */
function startCli(args: string[], logName: string): CliProcess {
  if (!existsSync(builtCli)) throw new Error(`${builtCli} is missing: run npm run build (npm run bench does)`);
  const nodeArgs = (process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  return runDbgrelay(args, {}, { built: true, nodeArgs, logFile: join(benchLogDir, logName) });
}

/** `dbgrelay serve` in its own process, with a throwaway data directory. */
export interface RelayProcess {
  readonly wssUrl: string;
  readonly tcpsUrl: string;
  readonly caFile: string;
  readonly secretFile: string;
  readonly secret: string;
  /** Process id of `dbgrelay serve`. */
  readonly pid: number;
  stop(): Promise<void>;
}

let relayCount = 0;

/**
 * Starts `dbgrelay serve` on loopback ports chosen by the system, with `config` (YAML)
 * on top of the defaults and logging at `info`, as a separate process: the relay of
 * the benchmark's paths runs as it does for users, not inside the benchmark's own
 * event loop.
 */
export async function startRelayProcess(config: Record<string, unknown> = {}): Promise<RelayProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dbgrelay-bench-relay-'));
  const configFile = join(dataDir, 'config.yaml');
  writeFileSync(configFile, stringify({ dataDir, listeners: { wss: { port: 0 }, tcps: { port: 0 } }, log: { level: 'info' }, ...config }));
  const serve = startCli(['serve', '--config', configFile], `serve-${++relayCount}.log`);
  const wss = await serve.waitFor(/wss\s+listening on (wss:\/\/\S+)/);
  const tcps = await serve.waitFor(/tcps listening on (tcps:\/\/\S+)/);
  const secretFile = join(dataDir, 'secret');
  return {
    wssUrl: wss[1]!,
    tcpsUrl: tcps[1]!,
    caFile: join(dataDir, 'ca.pem'),
    secretFile,
    secret: readFileSync(secretFile, 'utf8').trim(),
    pid: serve.child.pid!,
    stop: async () => {
      await serve.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `dbgrelay attach <target>` in its own process: the local port a DAP client connects to. */
export interface AttachProcess {
  readonly port: number;
  /** Process id of `dbgrelay attach`. */
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `dbgrelay attach <target> --port 0 --no-check [extraArgs]` against `relay` over
 * `relayUrl`. The benchmarks time sessions, not the check before listening, and some
 * start attach before their target has registered.
 */
export async function startAttachProcess(relay: RelayProcess, relayUrl: string, target: string, extraArgs: readonly string[] = []): Promise<AttachProcess> {
  const logName = `attach-${target}${extraArgs.join('').replace(/[^A-Za-z0-9-]/g, '')}.log`;
  const attach = startCli(['attach', target, '--relay', relayUrl, '--ca', relay.caFile, '--secret-file', relay.secretFile, '--port', '0', '--no-check', ...extraArgs], logName);
  const listening = await attach.waitFor(/listening on \S+:(\d+);/);
  return { port: Number(listening[1]), pid: attach.child.pid!, stop: () => attach.stop() };
}
