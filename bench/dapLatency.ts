/**
 * DAP request latency through dbgrelay, against a direct connection to debugpy and
 * stock forwarders, all in one run. See BENCHMARKS.md for the method and results.
 *
 *   npm run bench                       # defaults: 200 requests per kind, 10 attaches
 *   BENCH_REQUESTS=500 npm run bench
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { DapTestClient } from '../test/helpers/dapTestClient.js';
import { markerLine, startDebuggee, venvPython, type Debuggee } from '../test/e2e/support/debuggee.js';
import { startE2eRelay } from '../test/e2e/support/e2eRelay.js';
import { startAttach, waitForTargets } from '../test/e2e/support/relayClient.js';
import { ensureTools } from './tools/ensureTools.js';
import { startSocatForward } from './tools/socatForward.js';
import { startSshTunnel } from './tools/sshTunnel.js';
import { percentile, formatTable, type PathResult } from './tools/stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const benchApp = join(here, 'fixtures', 'benchApp.py');
const requests = Number(process.env['BENCH_REQUESTS'] ?? 200);
const attaches = Number(process.env['BENCH_ATTACHES'] ?? 10);
const breakpointLine = markerLine('BENCH', benchApp);

/** Starts benchApp.py directly under stock debugpy and returns its adapter port. */
async function startPlainDebuggee(mode: 'stock'): Promise<{ port: number; stop(): void }> {
  const child = spawn(venvPython, [benchApp, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /ADAPTER_PORT (\d+)/.exec(text);
      if (match) resolve(Number(match[1]));
    });
    child.on('exit', (code) => reject(new Error(`benchApp ${mode} exited with ${code}`)));
  });
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

/** Runs the measurements against a DAP server at 127.0.0.1:port. */
async function measure(label: string, port: number): Promise<PathResult> {
  const attach: number[] = [];
  for (let i = 0; i < attaches; i++) {
    const client = await DapTestClient.connect(port);
    const started = performance.now();
    await client.request('initialize', { clientID: 'bench', adapterID: 'debugpy' });
    const attached = client.request('attach', { justMyCode: false });
    await client.waitForEvent('initialized');
    attach.push(performance.now() - started);
    await client.request('configurationDone');
    await attached;
    await client.request('disconnect', { terminateDebuggee: false });
    await client.close();
    // Stock debugpy can wedge when a new attach follows a disconnect within
    // milliseconds; give every path the same pause so direct runs stay valid.
    await settle();
  }

  const client = await DapTestClient.connect(port);
  await client.request('initialize', { clientID: 'bench', adapterID: 'debugpy' });
  const attached = client.request('attach', { justMyCode: false });
  await client.waitForEvent('initialized');
  await client.request('setBreakpoints', { source: { path: benchApp }, breakpoints: [{ line: breakpointLine }] });
  await client.request('configurationDone');
  await attached;
  const stopped = await client.waitForEvent<DebugProtocol.StoppedEvent>('stopped', undefined, 15_000);
  const trace = await client.request<DebugProtocol.StackTraceResponse>('stackTrace', { threadId: stopped.body.threadId });
  const frameId = trace.body.stackFrames[0]!.id;

  const threads: number[] = [];
  const evaluate: number[] = [];
  const initialize: number[] = [];
  for (let i = 0; i < requests; i++) await timed(threads, () => client.request('threads'));
  for (let i = 0; i < requests; i++) await timed(evaluate, () => client.request('evaluate', { expression: 'n + 1', frameId, context: 'repl' }));
  // A repeated initialize is answered by the adapter alone (an error response): it
  // times only the legs between client and adapter, not the debuggee.
  for (let i = 0; i < requests; i++) await timed(initialize, () => client.request('initialize', { adapterID: 'debugpy' }).catch(() => undefined));
  await client.request('setBreakpoints', { source: { path: benchApp }, breakpoints: [] });
  await client.request('disconnect', { terminateDebuggee: false });
  await client.close();
  await settle();
  console.log(`bench: ${label}: threads p50 ${percentile(threads, 50).toFixed(2)} ms`);
  return { label, attach, threads, evaluate, initialize };
}

/** Starts benchApp.py under the agent and returns it with its debugpy adapter port (from the agent's log). */
async function startAgentDebuggee(relayUrl: string, name: string, relay: { secret: string; caFile: string }): Promise<{ debuggee: Debuggee; adapterPort: number }> {
  const debuggee = startDebuggee({ relayUrl, name, secret: relay.secret, caFile: relay.caFile, script: benchApp, scriptArgs: ['agent'] });
  const line = await debuggee.waitForOutput(/debugpy adapter listening on 127\.0\.0\.1:(\d+)/);
  return { debuggee, adapterPort: Number(/:(\d+)/.exec(line)![1]) };
}

async function main(): Promise<void> {
  ensureTools();
  const results: PathResult[] = [];
  const cleanups: Array<() => void | Promise<void>> = [];
  try {
    const stock = await startPlainDebuggee('stock');
    cleanups.push(stock.stop);
    results.push(await measure('debugpy direct, stock', stock.port));

    const relay = await startE2eRelay({ overrides: { log: { level: 'warn' } } });
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
      results.push(await measure(direct, adapterPort));
      if (scheme === 'tcps') {
        const ssh = await startSshTunnel(adapterPort);
        cleanups.push(ssh.stop);
        results.push({ ...(await measure('ssh -L', ssh.localPort)), baseline: direct });
        const socat = await startSocatForward(adapterPort);
        cleanups.push(socat.stop);
        results.push({ ...(await measure('socat', socat.localPort)), baseline: direct });
      }
      const attach = await startAttach(access, name);
      cleanups.push(() => attach.close());
      results.push({ ...(await measure(`dbgrelay over ${scheme}`, attach.address.port)), baseline: direct });
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
  const table = formatTable(results, { requests, attaches });
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
    process.exit(1);
  },
);
