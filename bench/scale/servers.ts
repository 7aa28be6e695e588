import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { builtCli, runDbgrelay, type CliProcess } from '../../test/support/processes/cliProcess.js';
import { freePort } from '../tools/ports.js';
import type { ScaleEndpoint } from './wire.js';

/** The servers the load tool measures: the relay, the runtime's floor, nginx `stream` with TLS. */

/** A server process the load tool can kill with SIGKILL and start again on the same ports. */
export interface MeasuredServer {
  /** Pid of the running process (changes with {@link restart}). */
  pid(): number;
  endpoint(transport: 'tcps' | 'wss'): ScaleEndpoint;
  /** `kill -9`, then resolves once it is gone. */
  kill9(): Promise<void>;
  /** Starts it again on the same ports and files. */
  restart(): Promise<void>;
  /** V8 heap in use, in bytes, when the server can say. */
  heapBytes(): Promise<number | undefined>;
  stop(): Promise<void>;
}

/** Where the relay's dev certificate and secret are, shared with the floor so both do the same TLS work. */
export interface RelayFiles {
  readonly dataDir: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly secret: string;
}

/** Writes the bench relay's config: fixed ports (a restart comes back on them), metrics on, fleet-size limits. */
function relayConfig(
  dataDir: string,
  logFile: string,
  ports: { wss: number; tcps: number; metrics: number },
  limits: Record<string, number>,
  agents: Record<string, number>,
  extra: Record<string, unknown>,
): string {
  const file = join(dataDir, 'config.yaml');
  writeFileSync(
    file,
    stringify({
      dataDir,
      listeners: { wss: { host: '127.0.0.1', port: ports.wss }, tcps: { host: '127.0.0.1', port: ports.tcps } },
      // Straight to a file, as under a log collector: not through a pipe the benchmark's own process must read.
      log: { level: 'info', file: logFile },
      metrics: { enabled: true, host: '127.0.0.1', port: ports.metrics },
      limits,
      agents,
      ...extra,
    }),
  );
  return file;
}

/** More of a bench relay's configuration: other keys, and the certificate and secret of another relay to share (several instances). */
export interface BenchRelayExtras {
  readonly config?: Record<string, unknown>;
  readonly shareFilesOf?: RelayFiles;
}

/**
 * Starts the built `dbgrelay serve` (as `npm start` does) with `limits` and `agents`
 * (heartbeat) keys on top of its defaults; logs go to `logDir`. With
 * `extras.shareFilesOf`, it presents that relay's certificate and uses its secret.
 */
export async function startBenchRelay(
  logDir: string,
  limits: Record<string, number> = {},
  agents: Record<string, number> = {},
  extras: BenchRelayExtras = {},
): Promise<MeasuredServer & { files: RelayFiles; metricsPort: number }> {
  if (!existsSync(builtCli)) throw new Error(`${builtCli} is missing: run npm run build (npm run bench:scale does)`);
  const dataDir = mkdtempSync(join(tmpdir(), 'dbgrelay-scale-'));
  const ports = { wss: await freePort(), tcps: await freePort(), metrics: await freePort() };
  const shared = extras.shareFilesOf;
  const sharing = shared ? { tls: { certFile: shared.certFile, keyFile: shared.keyFile }, auth: { secretFile: join(shared.dataDir, 'secret') } } : {};
  const configFile = relayConfig(dataDir, join(logDir, `relay-${basename(dataDir)}.jsonl`), ports, limits, agents, { ...sharing, ...extras.config });
  let starts = 0;
  let serve: CliProcess;
  const start = async (): Promise<void> => {
    serve = runDbgrelay(['serve', '--config', configFile], {}, { built: true, logFile: join(logDir, `relay-${++starts}.log`) });
    await serve.waitFor(/tcps listening on/, 60_000);
    await serve.waitFor(/wss\s+listening on/, 60_000);
  };
  await start();
  const files = shared ?? {
    dataDir,
    caFile: join(dataDir, 'ca.pem'),
    certFile: join(dataDir, 'server.pem'),
    keyFile: join(dataDir, 'server-key.pem'),
    secret: readFileSync(join(dataDir, 'secret'), 'utf8').trim(),
  };
  const ca = readFileSync(files.caFile, 'utf8');
  return {
    files,
    metricsPort: ports.metrics,
    pid: () => serve.child.pid!,
    endpoint: (transport) => ({ transport, host: '127.0.0.1', port: ports[transport], ca, secret: files.secret }),
    kill9: async () => {
      serve.child.kill('SIGKILL');
      await serve.exited;
    },
    restart: start,
    heapBytes: async () => {
      const text = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
      const used = /^nodejs_heap_size_used_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text)?.[1];
      return used === undefined ? undefined : Number(used);
    },
    stop: () => serve.stop(),
  };
}

/** Forks a TypeScript module of this folder as its own Node process with an IPC channel, at `nice` 10 unless `niceness` says otherwise. */
export function forkModule(name: string, niceness = 10): ChildProcess {
  const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  if (niceness === 0) return fork(file, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return spawn('nice', ['-n', String(niceness), process.execPath, '--import', 'tsx', file], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/** The floor server (floorServer.ts) for one transport, on the relay's certificate and secret. */
export async function startFloor(transport: 'tcps' | 'wss', files: RelayFiles): Promise<MeasuredServer> {
  const port = await freePort();
  const ca = readFileSync(files.caFile, 'utf8');
  let child: ChildProcess;
  const start = async (): Promise<void> => {
    child = forkModule('floorServer', 0);
    const listening = new Promise<void>((resolve) => child.once('message', () => resolve()));
    child.send({ transport, port, certFile: files.certFile, keyFile: files.keyFile, secret: files.secret });
    await listening;
  };
  await start();
  const exit = (signal: NodeJS.Signals) => async (): Promise<void> => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  };
  return {
    pid: () => child.pid!,
    endpoint: (kind) => ({ transport: kind, host: '127.0.0.1', port, ca, secret: files.secret }),
    kill9: exit('SIGKILL'),
    restart: start,
    heapBytes: async () => undefined,
    stop: exit('SIGTERM'),
  };
}

/** nginx `stream` terminating TLS on the relay's certificate and forwarding over TLS to `backendPort`, one worker. */
export function startNginxStream(files: RelayFiles, backendPort: number, logDir: string): Promise<RunningNginx> {
  return startStreamNginx('nginx', 1, 16_000, logDir, (port) => [
    '  server {',
    `    listen 127.0.0.1:${port} ssl;`,
    `    ssl_certificate ${files.certFile};`,
    `    ssl_certificate_key ${files.keyFile};`,
    '    tcp_nodelay on;',
    `    proxy_pass 127.0.0.1:${backendPort};`,
    '    proxy_ssl on;',
    '  }',
  ]);
}

/** A running nginx of the load tool. */
export interface RunningNginx {
  readonly pid: number;
  readonly port: number;
  stop(): Promise<void>;
}

/** Writes an nginx configuration with a `stream` block of `streamLines(port)` on a free port, and runs it until it listens. */
async function startStreamNginx(name: string, workers: number, workerConnections: number, logDir: string, streamLines: (port: number) => string[]): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), `dbgrelay-scale-${name}-`));
  mkdirSync(join(dir, 'logs'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  const errorLog = `${name}-error.log`;
  writeFileSync(
    conf,
    [
      'load_module /usr/lib/nginx/modules/ngx_stream_module.so;',
      'daemon off;',
      `worker_processes ${workers};`,
      'worker_rlimit_nofile 20000;',
      `error_log ${join(logDir, errorLog)} warn;`,
      `pid ${join(dir, 'nginx.pid')};`,
      `events { worker_connections ${workerConnections}; }`,
      'stream {',
      ...streamLines(port),
      '}',
      '',
    ].join('\n'),
  );
  return runNginx(dir, conf, port, logDir, errorLog);
}

/** Runs nginx with `conf` until it listens on `port`. */
async function runNginx(dir: string, conf: string, port: number, logDir: string, errorLog: string): Promise<RunningNginx> {
  const child = spawn('/usr/sbin/nginx', ['-p', dir, '-c', conf], { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`nginx exited with ${code}; see ${logDir}/${errorLog}`))));
  for (let tries = 0; ; tries++) {
    if (tries === 100) throw new Error('nginx did not listen within 10 s');
    const ready = await Promise.race([
      exited,
      new Promise<boolean>((resolve) => {
        const probe = connect(port, '127.0.0.1', () => {
          probe.destroy();
          resolve(true);
        });
        probe.on('error', () => resolve(false));
      }),
    ]);
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    pid: child.pid!,
    port,
    stop: async () => {
      exited.catch(() => undefined);
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

/**
 * nginx `stream` as a TCP load balancer (TLS passes through): round robin over
 * `backendPorts`, `workers` worker processes sharing the port (`reuseport`), so that
 * together they hold more connections than one process's descriptor limit allows.
 */
export function startNginxBalancer(backendPorts: readonly number[], workers: number, logDir: string): Promise<RunningNginx> {
  return startStreamNginx('balancer', workers, 19_000, logDir, (port) => [
    `  upstream relays { ${backendPorts.map((backend) => `server 127.0.0.1:${backend};`).join(' ')} }`,
    '  server {',
    `    listen 127.0.0.1:${port} reuseport backlog=4096;`,
    '    tcp_nodelay on;',
    '    proxy_timeout 1h;',
    '    proxy_pass relays;',
    '  }',
  ]);
}
