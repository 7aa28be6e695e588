import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built CLI, as `npm start` runs it. */
const cli = join(root, 'dist', 'cli', 'main.js');

/**
 * Directory that keeps the output of every `dbgrelay` process the benchmark starts
 * (`serve-N.log`, `attach-TARGET.log`), for reading after a failed run.
 */
export const benchLogDir = mkdtempSync(join(tmpdir(), 'dbgrelay-bench-logs-'));

/** A `dbgrelay` command running as its own Node.js process, as users run it. */
interface CliChild {
  readonly child: ChildProcess;
  /** Resolves with the first match of `pattern` in stdout+stderr; rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  stop(): Promise<void>;
}

function startCli(args: string[], logName: string): CliChild {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build (npm run bench does)`);
  const clean: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^DBGRELAY_|_proxy$/i.test(name)) clean[name] = value;
  }
  // e.g. BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the relay and `dbgrelay attach`
  const nodeArgs = (process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, cli, ...args], { cwd: root, env: clean, stdio: ['ignore', 'pipe', 'pipe'] });
  const logFile = join(benchLogDir, logName);
  let text = '';
  const waiters = new Set<() => void>();
  const append = (chunk: Buffer): void => {
    appendFileSync(logFile, chunk);
    text += chunk.toString();
    for (const waiter of waiters) waiter();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    waitFor: (pattern, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(text);
          if (!match) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(match);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${pattern} from dbgrelay ${args[0]} within ${timeoutMs} ms:\n${text}`));
        }, timeoutMs);
        child.once('exit', (code) => {
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`dbgrelay ${args[0]} exited with ${code}:\n${text}`));
        });
        waiters.add(check);
        check();
      }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
    },
  };
}

/** `dbgrelay serve` in its own process, with a throwaway data directory. */
export interface RelayProcess {
  readonly wssUrl: string;
  readonly tcpsUrl: string;
  readonly caFile: string;
  readonly secretFile: string;
  readonly secret: string;
  stop(): Promise<void>;
}

/**
 * Starts `node dist/cli/main.js serve` on loopback ports chosen by the system, with
 * `config` (YAML) on top of the defaults and logging at `info` (into {@link benchLogDir}), as a separate process:
 * the relay of the benchmark's paths runs as it does for users, not inside the
 * benchmark's own event loop.
 */
let relayCount = 0;

export async function startRelayProcess(config: Record<string, unknown> = {}): Promise<RelayProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dbgrelay-bench-relay-'));
  const configFile = join(dataDir, 'config.yaml');
  writeFileSync(
    configFile,
    stringify({ dataDir, listeners: { wss: { port: 0 }, tcps: { port: 0 } }, log: { level: 'info' }, ...config }),
  );
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
    stop: async () => {
      await serve.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `dbgrelay attach <target>` in its own process: the local port a DAP client connects to. */
export interface AttachProcess {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts `node dist/cli/main.js attach <target> --port 0` against `relay` over `relayUrl`. */
export async function startAttachProcess(relay: RelayProcess, relayUrl: string, target: string): Promise<AttachProcess> {
  const attach = startCli(['attach', target, '--relay', relayUrl, '--ca', relay.caFile, '--secret-file', relay.secretFile, '--port', '0'], `attach-${target}.log`);
  const listening = await attach.waitFor(/listening on \S+:(\d+);/);
  return { port: Number(listening[1]), pid: attach.child.pid!, stop: () => attach.stop() };
}
