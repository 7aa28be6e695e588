import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnListening } from '../tools/ports.js';
import { addAgents } from './fleetPhases.js';
import { measureSessions, sessionLoads, summarizeRounds, type SessionResult } from './sessionPhase.js';
import { startBenchRelay, startNginxStream } from './servers.js';
import type { WorkerPool } from './workerPool.js';

/** The bare Node hop of each listener (no dbgrelay code): the runtime's floor for the sessions phase. */
const nodePipeModule = fileURLToPath(new URL('../tools/nodePipe.ts', import.meta.url));

/** One server the sessions phase drives. */
interface SessionPath {
  readonly path: string;
  readonly measure: (load: (typeof sessionLoads)[number]) => Promise<SessionResult>;
}

/**
 * The sessions phase of one listener: the relay with agents over `transport`, nginx
 * `stream` with TLS and the bare Node pipe of that listener, all running at once and
 * driven in turn: each load is measured `rounds` times on every path, the paths
 * interleaved (relay, nginx, pipe, relay, ...), so that what the machine does
 * meanwhile falls on all of them alike. Each path's row is the median of its rounds;
 * the rounds stay in the result for the ratios round by round.
 */
export async function compareSessions(
  pool: WorkerPool,
  transport: 'tcps' | 'wss',
  logDir: string,
  limits: Record<string, number>,
  rounds: number,
  durationMs: number,
): Promise<SessionResult[]> {
  // Heartbeats every minute: the relay's idle CPU, taken out of each window, then stays small beside the requests.
  const relay = await startBenchRelay(logDir, limits, { heartbeatIntervalMs: 60_000, heartbeatTimeoutMs: 180_000 });
  const stops: Array<() => Promise<unknown> | unknown> = [() => relay.stop()];
  try {
    const most = Math.max(...sessionLoads.map((load) => load.sessions));
    await addAgents(pool, relay.endpoint(transport), 'scale', 0, most, 1000);
    const standIn = await pool.ask(0, { cmd: 'standIn', certFile: relay.files.certFile, keyFile: relay.files.keyFile });
    const nginx = await startNginxStream(relay.files, standIn['port'] as number, logDir);
    stops.push(() => nginx.stop());
    const [mode, pipeName] = transport === 'tcps' ? (['tls', 'bare Node TLS pipe'] as const) : (['wss', 'bare Node WebSocket pipe'] as const);
    const pipe = await spawnListening(
      process.execPath,
      ['--import', 'tsx', nodePipeModule, mode, relay.files.caFile, relay.files.certFile, relay.files.keyFile, String(standIn['port'])],
      /LISTENING (\d+)/,
    );
    stops.push(() => pipe.child.kill('SIGTERM'));
    await sleep(3_000);
    const paths: SessionPath[] = [
      { path: `dbgrelay ${transport}`, measure: (load) => measureSessions(pool, `dbgrelay ${transport}`, relay.endpoint(transport), false, relay.pid(), load, durationMs) },
      {
        path: 'nginx stream TLS',
        measure: (load) => measureSessions(pool, 'nginx stream TLS', { ...relay.endpoint('tcps'), port: nginx.port }, true, nginx.pid, load, durationMs),
      },
      { path: pipeName, measure: (load) => measureSessions(pool, pipeName, { ...relay.endpoint(transport), port: pipe.port }, true, pipe.child.pid!, load, durationMs) },
    ];
    const results: SessionResult[] = [];
    for (const load of sessionLoads) {
      const measured = new Map<string, SessionResult[]>(paths.map((p) => [p.path, []]));
      for (let round = 1; round <= rounds; round++) {
        console.log(`${transport}: ${load.sessions} sessions, round ${round} of ${rounds}`);
        for (const p of paths) measured.get(p.path)!.push(await p.measure(load));
      }
      for (const p of paths) results.push({ ...summarizeRounds(measured.get(p.path)!), listener: transport });
    }
    return results;
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}
