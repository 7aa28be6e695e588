/**
 * DAP request latency through dbgrelay, against a direct connection to debugpy and
 * stock forwarders, all in one run. See BENCHMARKS.md for the method and results.
 *
 *   npm run bench                       # defaults: 200 requests per kind, 10 attaches, 5 rounds
 *   BENCH_REQUESTS=500 BENCH_ATTACHES=20 BENCH_ROUNDS=10 npm run bench
 *   BENCH_ONLY='direct|wss' npm run bench   # only the paths whose label matches
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { DapTestClient } from '../test/support/dap/dapTestClient.js';
import { venvPython } from '../test/support/processes/debuggee.js';
import { waitForTargets } from '../test/support/relay/relayClient.js';
import { attachStoppedAtBreakpoint, benchApp, detachFromBreakpoint, startAgentDebuggee } from './tools/benchSession.js';
import { ensureTools } from './tools/ensureTools.js';
import { startHopChain } from './tools/hopChain.js';
import { spawnListening } from './tools/ports.js';
import { benchLogDir, startAttachProcess, startRelayProcess } from './tools/relayProcesses.js';
import { startSocatForward } from './tools/socatForward.js';
import { startSshTunnel } from './tools/sshTunnel.js';
import { formatTable, type PathResult } from './tools/stats.js';
import { positiveSetting } from './tools/settings.js';

const here = dirname(fileURLToPath(import.meta.url));
const requests = positiveSetting('BENCH_REQUESTS', 200);
const attaches = positiveSetting('BENCH_ATTACHES', 10);
const rounds = positiveSetting('BENCH_ROUNDS', 5);
/** Measure only the paths whose label matches `BENCH_ONLY`, a regular expression (all by default). */
const onlyPattern = new RegExp(process.env['BENCH_ONLY'] ?? '');
const isMeasured = (path: PathResult): boolean => onlyPattern.test(path.label);

/** Starts benchApp.py directly under stock debugpy and returns its adapter port. */
async function startPlainDebuggee(mode: 'stock'): Promise<{ port: number; stop(): void }> {
  const { child, port } = await spawnListening(venvPython, [benchApp, mode], /ADAPTER_PORT (\d+)/);
  return { port, stop: () => child.kill('SIGKILL') };
}

/** Pause between sessions (not measured). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

async function timed<T>(samples: number[], action: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await action();
  samples.push(performance.now() - started);
  return result;
}

/** A path to a debuggee's adapter, and the samples measured through it so far. */
interface BenchPath extends PathResult {
  readonly port: number;
}

function newPath(label: string, port: number, baseline?: string): BenchPath {
  return { label, port, attach: [], threads: [], evaluate: [], initialize: [], ...(baseline ? { baseline } : {}) };
}

/**
 * One round on one path: `attachCount` timed attaches, then one session stopped at the
 * breakpoint that times `count` requests of each kind. Sessions end with `disconnect`.
 */
async function measureRound(path: BenchPath, count: number, attachCount: number): Promise<void> {
  for (let i = 0; i < attachCount; i++) {
    const client = await DapTestClient.connect(path.port);
    const started = performance.now();
    await client.request('initialize', { clientID: 'bench', adapterID: 'debugpy' });
    const attached = client.request('attach', { justMyCode: false });
    await client.waitForEvent('initialized');
    path.attach.push(performance.now() - started);
    await client.request('configurationDone');
    await attached;
    await client.request('disconnect', { terminateDebuggee: false });
    await client.close();
    // Stock debugpy can wedge when a new attach follows a disconnect within
    // milliseconds; give every path the same pause so direct runs stay valid.
    await settle();
  }

  const { client, stopped } = await attachStoppedAtBreakpoint(path.port);
  const trace = await client.request<DebugProtocol.StackTraceResponse>('stackTrace', { threadId: stopped.body.threadId });
  const frameId = trace.body.stackFrames[0]!.id;
  for (let i = 0; i < count; i++) await timed(path.threads, () => client.request('threads'));
  for (let i = 0; i < count; i++) await timed(path.evaluate, () => client.request('evaluate', { expression: 'n + 1', frameId, context: 'repl' }));
  // A repeated initialize is answered by the adapter alone (an error response): it
  // times only the legs between client and adapter, not the debuggee.
  for (let i = 0; i < count; i++) await timed(path.initialize, () => client.request('initialize', { adapterID: 'debugpy' }).catch(() => undefined));
  await detachFromBreakpoint(client);
  await settle();
}

async function main(): Promise<void> {
  ensureTools();
  const paths: BenchPath[] = [];
  const cleanups: Array<() => void | Promise<void>> = [];
  try {
    const stock = await startPlainDebuggee('stock');
    cleanups.push(stock.stop);
    paths.push(newPath('debugpy direct, stock', stock.port));

    // The relay and `dbgrelay attach` run as their own processes, built, as users run them.
    const relay = await startRelayProcess();
    cleanups.push(() => relay.stop());
    for (const scheme of ['tcps', 'wss'] as const) {
      const relayUrl = scheme === 'wss' ? relay.wssUrl : relay.tcpsUrl;
      const access = { relayUrl, caFile: relay.caFile, secret: relay.secret };
      const name = `bench-${scheme}`;
      const { debuggee, adapterPort } = await startAgentDebuggee(relayUrl, name, relay);
      cleanups.push(() => debuggee.kill());
      await waitForTargets(access, (t) => t.some((x) => x.name === name));
      // Every path below reaches the same debuggee (the agent's, TCP_NODELAY fixed);
      // the direct connection is the baseline the others are compared with.
      const direct = `debugpy direct (agent's debuggee ${scheme})`;
      paths.push(newPath(direct, adapterPort));
      if (scheme === 'tcps') {
        const ssh = await startSshTunnel(adapterPort);
        cleanups.push(ssh.stop);
        paths.push(newPath('ssh -L', ssh.localPort, direct));
        // The relay reaching the same adapter as an ssh:// target through the same sshd.
        const sshRelay = await startRelayProcess({
          targets: {
            'bench-ssh': {
              url: `ssh://${ssh.sshd.user}@127.0.0.1:${ssh.sshd.port}`,
              debugpy: `127.0.0.1:${adapterPort}`,
              ssh: { identityFile: ssh.sshd.identityFile, knownHostsFile: ssh.sshd.knownHostsFile },
            },
          },
        });
        cleanups.push(() => sshRelay.stop());
        const sshAttach = await startAttachProcess(sshRelay, sshRelay.tcpsUrl, 'bench-ssh');
        cleanups.push(() => sshAttach.stop());
        paths.push(newPath('dbgrelay over tcps to an ssh:// target', sshAttach.port, direct));
        // The relay reaching the same adapter itself over loopback TCP (a sidecar
        // target): dbgrelay's topology without the agent's bridge, i.e. its two Node hops.
        const sidecarRelay = await startRelayProcess({ targets: { 'bench-sidecar': { url: `tcp://127.0.0.1:${adapterPort}` } } });
        cleanups.push(() => sidecarRelay.stop());
        const sidecarAttach = await startAttachProcess(sidecarRelay, sidecarRelay.tcpsUrl, 'bench-sidecar');
        cleanups.push(() => sidecarAttach.stop());
        paths.push(newPath('dbgrelay over tcps to a tcp:// (sidecar) target', sidecarAttach.port, direct));
        const socat = await startSocatForward(adapterPort);
        cleanups.push(socat.stop);
        paths.push(newPath('socat', socat.localPort, direct));
        // dbgrelay's hops with nothing in them: the floor of its topology and runtimes
        const chain = await startHopChain({ attach: 'node', relay: 'node', bridge: 'python' }, adapterPort);
        cleanups.push(chain.stop);
        paths.push(newPath("bare pipes in dbgrelay's topology", chain.localPort, direct));
        const socatChain = await startHopChain({ attach: 'socat', relay: 'socat', bridge: 'socat' }, adapterPort);
        cleanups.push(socatChain.stop);
        paths.push(newPath("socat TLS pipes in dbgrelay's topology", socatChain.localPort, direct));
      }
      const attach = await startAttachProcess(relay, relayUrl, name);
      cleanups.push(() => attach.stop());
      paths.push(newPath(`dbgrelay over ${scheme}`, attach.port, direct));
    }
    // Rounds interleave the paths, so that drift on the machine during the run
    // (other load, CPU frequency) falls on every path alike.
    for (let round = 0; round < rounds; round++) {
      for (const path of paths.filter(isMeasured)) {
        await measureRound(path, Math.ceil(requests / rounds), Math.ceil(attaches / rounds)).catch((error: unknown) => {
          throw new Error(`round ${round + 1}, path "${path.label}": ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        });
      }
      console.log(`bench: round ${round + 1}/${rounds} done`);
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
  const results: PathResult[] = paths.filter(isMeasured);
  const table = formatTable(results, { requests, attaches, rounds });
  console.log('\n' + table);
  const out = join(here, 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'dapLatency.md'), table);
  console.log(`bench: written to ${join(out, 'dapLatency.md')}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    console.error(`bench: the dbgrelay processes' output is in ${benchLogDir}`);
    process.exit(1);
  },
);
