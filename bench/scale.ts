import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measureIdleMemory, measureListing, measureRestart, measureStorm } from './scale/fleetPhases.js';
import type { SessionResult } from './scale/sessionPhase.js';
import { compareSessions } from './scale/sessionsComparison.js';
import { startBenchRelay, startFloor, type MeasuredServer } from './scale/servers.js';
import { WorkerPool } from './scale/workerPool.js';
import { formatScaleReport, type FleetResult } from './scale/scaleReport.js';
import { measureCluster, type ClusterResult } from './scale/clusterPhase.js';
import { measureChurn, type ChurnSummary } from './scale/churnPhase.js';

/**
 * `npm run bench:scale`: what one relay holds at fleet size (BENCHMARKS.md "Fleet
 * size"), each figure beside its anchor measured in the same run: idle memory, a
 * registration storm and a `kill -9` restart against a bare Node TLS server with the
 * same heartbeats; per-request latency and CPU against nginx `stream` with TLS.
 */

const usage = `usage: npm run bench:scale -- [--agents N] [--transports tcps,wss] [--phases fleet,sessions,cluster,churn] [--cluster-agents N] [--churn-seconds S] [--duration S] [--workers W] [--out FILE]

  --agents N        fleet size (default 10000; memory is also read at 1000 and 5000)
  --transports      which agent transports to measure (default tcps,wss)
  --phases          fleet: idle memory, restart and storm against the floor server;
                    sessions: 1/10/100/1000 sessions against nginx stream and the
                    bare Node pipe of the listener, interleaved, --rounds times each;
                    cluster: three instances with one Redis behind a
                    balancer, the fleet they hold and forwarded against direct
                    requests; churn: agents and sessions coming and going for
                    --churn-seconds, RSS and descriptors read every 10 s
                    (default fleet,sessions)
  --cluster-agents N  agents of the cluster phase (default 30000, over tcps)
  --churn-seconds S   length of the churn phase (default 300; 2000 agents, 20 replaced
                    and 100 sessions attached and detached per second, over tcps)
  --duration S      seconds each session load is measured (default 10)
  --rounds R        times each session load is measured on each path (default 3; the
                    report gives the medians and the ratios round by round)
  --workers W       load-generating processes, at nice 10 (default 4)
  --out FILE        also write the results as JSON`;

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
    transports: { type: 'string', default: 'tcps,wss' },
    phases: { type: 'string', default: 'fleet,sessions' },
    'cluster-agents': { type: 'string', default: '30000' },
    'churn-seconds': { type: 'string', default: '300' },
    duration: { type: 'string', default: '10' },
    workers: { type: 'string', default: '4' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const agents = Number(values.agents);
for (const key of ['agents', 'cluster-agents', 'churn-seconds', 'duration', 'workers', 'rounds'] as const) {
  if (!/^[1-9][0-9]*$/.test(values[key])) {
    console.error(`--${key} must be a positive whole number, got ${JSON.stringify(values[key])}\n\n${usage}`);
    process.exit(2);
  }
}
const transports = values.transports.split(',') as Array<'tcps' | 'wss'>;
const phases = new Set(values.phases.split(','));
const durationMs = Number(values.duration) * 1000;
const logDir = mkdtempSync(join(tmpdir(), 'dbgrelay-scale-logs-'));
/** Limits of the measured relay: the fleet is bigger than any default bound. */
const relayLimits = { maxAgents: 100_000, maxSessionsPerPrincipal: 100_000 };

/** Fleet phases of one server: memory by size, then a restart, then a cold storm. */
async function fleetOf(server: MeasuredServer, transport: 'tcps' | 'wss', atFullSize: () => Promise<FleetResult['listing']> = async () => undefined): Promise<FleetResult> {
  const pool = new WorkerPool(Number(values.workers));
  try {
    const steps = [1000, 5000, agents].filter((n, i, all) => n <= agents && all.indexOf(n) === i);
    const memory = await measureIdleMemory(pool, server, transport, steps, 1000, 5_000);
    const listing = await atFullSize();
    const restart = await measureRestart(pool, server, agents);
    const storm = await measureStorm(pool, server, transport, agents);
    await pool.all(() => ({ cmd: 'stopAgents' }));
    return { memory, restart, storm, ...(listing ? { listing } : {}) };
  } finally {
    pool.close();
  }
}

async function main(): Promise<void> {
  console.log(`bench:scale: ${agents} agents, ${transports.join(' and ')}, phases ${[...phases].join(', ')}; logs in ${logDir}`);
  const fleet: Record<string, FleetResult> = {};
  const sessions: SessionResult[] = [];
  for (const transport of phases.has('fleet') || phases.has('sessions') ? transports : []) {
    if (phases.has('fleet')) {
      const relay = await startBenchRelay(logDir, relayLimits);
      const floor = await startFloor(transport, relay.files);
      console.log(`${transport}: floor server`);
      fleet[`floor ${transport}`] = await fleetOf(floor, transport);
      await floor.stop();
      console.log(`${transport}: relay`);
      await relay.kill9();
      await relay.restart();
      fleet[`dbgrelay ${transport}`] = await fleetOf(relay, transport, () => measureListing(relay, transport, relay.files.caFile, join(relay.files.dataDir, 'secret')));
      await relay.stop();
    }
    if (phases.has('sessions')) {
      const pool = new WorkerPool(2);
      try {
        sessions.push(...(await compareSessions(pool, transport, logDir, relayLimits, Number(values.rounds), durationMs)));
      } finally {
        pool.close();
      }
    }
  }
  let cluster: ClusterResult | undefined;
  if (phases.has('cluster')) {
    const pool = new WorkerPool(Number(values.workers));
    try {
      cluster = await measureCluster(pool, logDir, Number(values['cluster-agents']), 1000, durationMs);
    } finally {
      pool.close();
    }
  }
  let churn: ChurnSummary | undefined;
  if (phases.has('churn')) {
    const relay = await startBenchRelay(logDir, relayLimits);
    const pool = new WorkerPool(Number(values.workers));
    try {
      console.log(`churn: ${values['churn-seconds']} s`);
      churn = await measureChurn(pool, relay, 2000, 20, 100, Number(values['churn-seconds']) * 1000);
    } finally {
      pool.close();
      await relay.stop();
    }
  }
  const report = formatScaleReport({ agents, fleet, sessions, cluster, churn });
  console.log(`\n${report}`);
  if (values.out) writeFileSync(values.out, JSON.stringify({ agents, fleet, sessions, cluster, churn }, null, 2));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
