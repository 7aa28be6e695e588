/**
 * What an engineer waits for over a real network: attach to first view, step to view,
 * expand, evaluate, as VS Code asks for them, at several round-trip times, on stock
 * debugpy through `ssh -L` and on dbgrelay. See BENCHMARKS.md "Over a real network".
 *
 *   npm run bench:wan                                  # RTT 0, 20, 50, 100 ms; 3 sessions per path and RTT
 *   BENCH_WAN_RTTS=50 BENCH_WAN_SESSIONS=5 npm run bench:wan
 *   BENCH_WAN_RELAY_SHARE=0.9 npm run bench:wan        # the relay near the agent: 90 % of the RTT between client and relay
 *   BENCH_ONLY='ssh|tcps' npm run bench:wan            # only the paths whose label matches
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTools } from './tools/ensureTools.js';
import { benchLogDir, startRelayProcess } from './tools/relayProcesses.js';
import { positiveSetting } from './tools/settings.js';
import { startWanPaths } from './wan/wanPaths.js';
import { formatWanTables, type WanResult } from './wan/wanReport.js';
import { measureSession } from './wan/wanSession.js';

const here = dirname(fileURLToPath(import.meta.url));
const sessions = positiveSetting('BENCH_WAN_SESSIONS', 3);
const steps = positiveSetting('BENCH_WAN_STEPS', 3);
const onlyPattern = new RegExp(process.env['BENCH_ONLY'] ?? '');

function rttSetting(): number[] {
  const text = process.env['BENCH_WAN_RTTS'] ?? '0,20,50,100';
  const values = text.split(',').map((part) => Number(part.trim()));
  if (values.some((value) => !Number.isInteger(value) || value < 0 || value > 1000)) throw new Error(`BENCH_WAN_RTTS must list whole milliseconds 0..1000, got "${text}"`);
  return values;
}

function shareSetting(): number {
  const text = process.env['BENCH_WAN_RELAY_SHARE'] ?? '0.5';
  const value = Number(text);
  if (!(value >= 0 && value <= 1)) throw new Error(`BENCH_WAN_RELAY_SHARE must be a fraction 0..1, got "${text}"`);
  return value;
}

/**
 * Pause between sessions, not measured: stock debugpy can wedge when an attach follows
 * a disconnect within milliseconds, and the agent's bridge holds a new session's adapter
 * connection until 0.6 s after the last one ended for the same reason
 * (agent-py/README.md); an engineer does not attach again within that time.
 */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 700));

async function main(): Promise<void> {
  ensureTools();
  const rtts = rttSetting();
  const relayShare = shareSetting();
  const cleanups: Array<() => void | Promise<void>> = [];
  const results: WanResult[] = [];
  try {
    const relay = await startRelayProcess();
    cleanups.push(() => relay.stop());
    const { paths, setRtt } = await startWanPaths(relay, relayShare, cleanups);
    const measured = paths.filter((path) => onlyPattern.test(path.label));
    // one session per path first, not measured: debugpy's adapter and the tunnels warm up
    setRtt(0);
    for (const path of measured) {
      await measureSession(path.port, 1);
      await settle();
    }
    for (const rttMs of rtts) {
      setRtt(rttMs);
      const byPath = new Map(measured.map((path) => [path.label, { path: path.label, rttMs, attach: [], steps: [], expand: [], evaluate: [] } as WanResult]));
      // sessions interleave the paths, so that drift on the machine falls on every path alike
      for (let session = 0; session < sessions; session++) {
        for (const path of measured) {
          const samples = await measureSession(path.port, steps).catch((error: unknown) => {
            throw new Error(`RTT ${rttMs} ms, path "${path.label}": ${error instanceof Error ? error.message : String(error)}`, { cause: error });
          });
          const result = byPath.get(path.label)!;
          result.attach.push(samples.attach);
          result.steps.push(...samples.steps);
          result.expand.push(samples.expand);
          result.evaluate.push(samples.evaluate);
          await settle();
        }
      }
      results.push(...byPath.values());
      console.log(`bench:wan: RTT ${rttMs} ms done`);
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
  const table = formatWanTables(results, { sessions, steps, relayShare });
  console.log('\n' + table);
  const out = join(here, 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'wan.md'), table);
  console.log(`bench:wan: written to ${join(out, 'wan.md')}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    console.error(`bench:wan: the dbgrelay processes' output is in ${benchLogDir}`);
    process.exit(1);
  },
);
