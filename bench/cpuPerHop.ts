/**
 * CPU time each process on a relayed session spends per `threads` round trip: the
 * relay, `dbgrelay attach`, the agent's bridge and debugpy's adapter, over tcps and
 * wss. Latency through a chain of processes on one machine is mostly the CPU its
 * processes spend in turn, so this shows which hop to make cheaper. See BENCHMARKS.md.
 *
 *   npm run bench:cpu                  # 3000 requests per transport
 *   BENCH_REQUESTS=10000 npm run bench:cpu
 *   BENCH_ONLY=tcps BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' npm run bench:cpu   # one transport, profiled
 */
import { readFileSync } from 'node:fs';
import { waitForTargets } from '../test/support/relay/relayClient.js';
import { attachStoppedAtBreakpoint, detachFromBreakpoint, startAgentDebuggee } from './tools/benchSession.js';
import { startAttachProcess, startRelayProcess } from './tools/relayProcesses.js';
import { positiveSetting } from './tools/settings.js';

const requests = positiveSetting('BENCH_REQUESTS', 3000);
/** Measure only the transports that match `BENCH_ONLY`, a regular expression (both by default). */
const onlyPattern = new RegExp(process.env['BENCH_ONLY'] ?? '');
/** USER_HZ, the unit of the CPU times in /proc/PID/stat: 100 on Linux. */
const clockTicksPerSecond = 100;

/** User and system CPU time of process `pid` so far, in microseconds (from `/proc/PID/stat`). */
function cpuMicros(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const micros = (field: string | undefined): number => (Number(field) * 1_000_000) / clockTicksPerSecond;
  return { user: micros(fields[11]), system: micros(fields[12]) };
}

function commandLine(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
}

/** Names the agent's processes by their command lines: the bridge and debugpy's adapter. */
function agentProcesses(family: readonly number[]): Array<{ name: string; pid: number }> {
  const named: Array<{ name: string; pid: number }> = [];
  for (const pid of family) {
    const line = commandLine(pid);
    if (line.includes('dbgrelay.bridge')) named.push({ name: 'agent bridge', pid });
    else if (line.includes('debugpy.adapter') || line.includes('adapterguard')) named.push({ name: 'debugpy adapter', pid });
  }
  return named;
}

async function main(): Promise<void> {
  const relay = await startRelayProcess();
  const stops: Array<() => unknown> = [() => relay.stop()];
  const lines = ['| transport | process | CPU µs per `threads` round trip | of which user | of which system |', '|---|---|---:|---:|---:|'];
  try {
    for (const scheme of (['tcps', 'wss'] as const).filter((s) => onlyPattern.test(s))) {
      const relayUrl = scheme === 'wss' ? relay.wssUrl : relay.tcpsUrl;
      const name = `cpu-${scheme}`;
      const { debuggee } = await startAgentDebuggee(relayUrl, name, relay);
      stops.push(() => debuggee.kill());
      await waitForTargets({ relayUrl, caFile: relay.caFile, secret: relay.secret }, (t) => t.some((x) => x.name === name));
      const attach = await startAttachProcess(relay, relayUrl, name);
      stops.push(() => attach.stop());
      const { client } = await attachStoppedAtBreakpoint(attach.port);
      const processes = [{ name: 'relay', pid: relay.pid }, { name: 'dbgrelay attach', pid: attach.pid }, ...agentProcesses(debuggee.family())];
      for (let i = 0; i < 200; i++) await client.request('threads');
      const before = processes.map((p) => cpuMicros(p.pid));
      const started = performance.now();
      for (let i = 0; i < requests; i++) await client.request('threads');
      const elapsedMicros = (performance.now() - started) * 1000;
      processes.forEach((p, i) => {
        const after = cpuMicros(p.pid);
        const [user, system] = [(after.user - before[i]!.user) / requests, (after.system - before[i]!.system) / requests];
        lines.push(`| ${scheme} | ${p.name} | ${(user + system).toFixed(0)} | ${user.toFixed(0)} | ${system.toFixed(0)} |`);
      });
      lines.push(`| ${scheme} | (wall time per round trip) | ${(elapsedMicros / requests).toFixed(0)} | | |`);
      await detachFromBreakpoint(client);
    }
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
  console.log(`\n${requests} sequential \`threads\` requests per transport, the program paused at a breakpoint.\n`);
  console.log(lines.join('\n'));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
