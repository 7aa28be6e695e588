/**
 * What each hop of dbgrelay's topology costs on the runtime it runs on, with no DAP,
 * debugpy or dbgrelay code in the way: a client sends a DAP-sized message and waits
 * for it to come back from an echo server, directly, through `ssh -L` to a local
 * sshd, and through bare pipe chains in dbgrelay's topology (attach hop TCP→TLS, relay
 * hop TLS→TLS, bridge hop TLS→TCP) whose hops run on Node/Python as dbgrelay's do or on
 * socat (C, OpenSSL). Swapping one hop at a time between socat and dbgrelay's runtime
 * shows what that runtime costs at that hop. See BENCHMARKS.md.
 *
 *   npm run bench:floor                      # 6000 round trips per path, 6 rounds
 *   BENCH_REQUESTS=20000 BENCH_ROUNDS=10 BENCH_MESSAGE_BYTES=400 npm run bench:floor
 */
import { connect, type Socket } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTools } from './tools/ensureTools.js';
import { startHopChain, type HopRuntimes } from './tools/hopChain.js';
import { spawnListening } from './tools/ports.js';
import { positiveSetting } from './tools/settings.js';
import { startSshTunnel } from './tools/sshTunnel.js';
import { percentile } from './tools/stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const requests = positiveSetting('BENCH_REQUESTS', 6000);
const rounds = positiveSetting('BENCH_ROUNDS', 6);
/** About a `threads` response on the benchmark's debuggee. */
const messageBytes = positiveSetting('BENCH_MESSAGE_BYTES', 200);
const warmup = 200;
/** How long one echo may take before the run fails instead of waiting forever on a stalled hop. */
const echoTimeoutMs = 5000;

/** The chains measured: dbgrelay's runtimes, all socat, and each of dbgrelay's hops alone among socat hops. */
const chains: readonly HopRuntimes[] = [
  { attach: 'socat', relay: 'socat', bridge: 'socat' },
  { attach: 'node', relay: 'node', bridge: 'python' },
  { attach: 'node', relay: 'socat', bridge: 'socat' },
  { attach: 'socat', relay: 'node', bridge: 'socat' },
  { attach: 'socat', relay: 'socat', bridge: 'python' },
];

interface Path {
  readonly label: string;
  readonly port: number;
  readonly samples: number[];
}

/** One connection through `port`: `count` timed echoes of `messageBytes` after a warm-up, in µs. */
async function timeEchoes(port: number, count: number, samples: number[]): Promise<void> {
  const socket: Socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const message = Buffer.alloc(messageBytes, 'x');
  let pending: { remaining: number; done: () => void } | undefined;
  socket.on('data', (chunk: Buffer) => {
    if (!pending) return;
    pending.remaining -= chunk.length;
    if (pending.remaining <= 0) pending.done();
  });
  const failed = new Promise<never>((_, reject) => {
    socket.once('error', (error) => reject(new Error(`connection through port ${port}: ${error.message}`, { cause: error })));
    socket.once('close', () => reject(new Error(`connection through port ${port} closed`)));
  });
  failed.catch(() => undefined); // it rejects when this function destroys the socket, too
  let timer: NodeJS.Timeout | undefined;
  try {
    for (let i = 0; i < warmup + count; i++) {
      const started = performance.now();
      const echoed = new Promise<void>((resolve) => (pending = { remaining: messageBytes, done: resolve }));
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no echo through port ${port} within ${echoTimeoutMs} ms`)), echoTimeoutMs);
      });
      socket.write(message);
      await Promise.race([echoed, failed, stalled]);
      clearTimeout(timer);
      if (i >= warmup) samples.push((performance.now() - started) * 1000);
    }
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}

const chainLabel = (c: HopRuntimes): string => `${c.attach} → ${c.relay} → ${c.bridge}`;

async function main(): Promise<void> {
  ensureTools();
  const stops: Array<() => void> = [];
  const paths: Path[] = [];
  try {
    const echo = await spawnListening(process.execPath, ['--import', 'tsx', join(here, 'tools', 'echoServer.ts')], /LISTENING (\d+)/);
    stops.push(() => echo.child.kill());
    paths.push({ label: 'direct', port: echo.port, samples: [] });
    const ssh = await startSshTunnel(echo.port);
    stops.push(() => ssh.stop());
    paths.push({ label: 'ssh -L', port: ssh.localPort, samples: [] });
    for (const runtimes of chains) {
      const chain = await startHopChain(runtimes, echo.port);
      stops.push(() => chain.stop());
      paths.push({ label: chainLabel(runtimes), port: chain.localPort, samples: [] });
    }
    // Interleaved rounds, so that drift on the machine falls on every path alike.
    for (let round = 0; round < rounds; round++) {
      for (const path of paths) await timeEchoes(path.port, Math.ceil(requests / rounds), path.samples);
      console.log(`bench: round ${round + 1}/${rounds} done`);
    }
  } finally {
    for (const stop of stops.reverse()) stop();
  }
  const table = formatFloorTable(paths, paths[0]!, paths[1]!);
  console.log('\n' + table);
  const out = join(here, 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'hopFloor.md'), table);
  console.log(`bench: written to ${join(out, 'hopFloor.md')}`);
}

/** p50/p99 per path, what each adds to the direct p50, and that as a multiple of what `ssh -L` adds. */
function formatFloorTable(paths: readonly Path[], directPath: Path, sshPath: Path): string {
  const direct = percentile(directPath.samples, 50);
  const sshAdded = percentile(sshPath.samples, 50) - direct;
  const lines = [
    `${directPath.samples.length} sequential round trips of ${messageBytes} bytes per path in ${rounds} interleaved rounds; µs. Chains name the runtime of the attach → relay → bridge hops.`,
    '',
    '| path | p50 | p99 | added over direct, p50 | added ÷ ssh -L added |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const path of paths) {
    const p50 = percentile(path.samples, 50);
    const added = p50 - direct;
    const cells = path === directPath ? ['', ''] : [added.toFixed(0), (added / sshAdded).toFixed(2)];
    lines.push(`| ${path.label} | ${p50.toFixed(0)} | ${percentile(path.samples, 99).toFixed(0)} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
