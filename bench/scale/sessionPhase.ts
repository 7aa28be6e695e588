import { setTimeout as sleep } from 'node:timers/promises';
import { percentile } from '../tools/stats.js';
import { cpuSeconds } from './procStats.js';
import type { WorkerPool } from './workerPool.js';
import type { ScaleEndpoint } from './wire.js';

/** Concurrent sessions and what each sends: 1×200/s, 10×50/s, 100×5/s, 1000×1/s by default. */
export interface SessionLoad {
  readonly sessions: number;
  readonly ratePerSession: number;
}

/** What one load measured on one path. */
export interface SessionResult extends SessionLoad {
  readonly path: string;
  readonly opened: number;
  readonly requests: number;
  readonly unanswered: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Server CPU per request in µs, the server's idle CPU over the same time taken out. */
  readonly cpuPerRequestUs: number;
  /** The listener whose comparison this row belongs to (its nginx and bare pipe rows share it). */
  readonly listener?: 'tcps' | 'wss';
  /** With several rounds (the row then holds their medians): each round's figures, in order. */
  readonly rounds?: ReadonlyArray<Pick<SessionResult, 'p50Ms' | 'p99Ms' | 'cpuPerRequestUs'>>;
}

/** The middle round's value (nearest rank). */
const median = (values: readonly number[]): number => percentile(values, 50);

/** One row for several rounds of one load on one path: the medians, the totals, and the rounds themselves. */
export function summarizeRounds(rounds: readonly SessionResult[]): SessionResult {
  const first = rounds[0]!;
  return {
    ...first,
    opened: Math.min(...rounds.map((r) => r.opened)),
    requests: rounds.reduce((sum, r) => sum + r.requests, 0),
    unanswered: rounds.reduce((sum, r) => sum + r.unanswered, 0),
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    cpuPerRequestUs: median(rounds.map((r) => r.cpuPerRequestUs)),
    rounds: rounds.map(({ p50Ms, p99Ms, cpuPerRequestUs }) => ({ p50Ms, p99Ms, cpuPerRequestUs })),
  };
}

/** Standard loads of the sessions phase. */
export const sessionLoads: readonly SessionLoad[] = [
  { sessions: 1, ratePerSession: 200 },
  { sessions: 10, ratePerSession: 50 },
  { sessions: 100, ratePerSession: 5 },
  { sessions: 1000, ratePerSession: 1 },
];

/**
 * Opens `load.sessions` sessions through `endpoint` (to `targetNames`, by default targets `scale-0…`, or raw to
 * a TLS proxy), drives them for `durationMs` after a second of warm-up and reads
 * latency and `serverPid`'s CPU per request; its idle CPU with the sessions open,
 * read before and after (the smaller), is taken out.
 */
export async function measureSessions(
  pool: WorkerPool,
  path: string,
  endpoint: ScaleEndpoint,
  raw: boolean,
  serverPid: number,
  load: SessionLoad,
  durationMs: number,
  targetNames?: readonly string[],
): Promise<SessionResult> {
  const workers = pool.workers.length;
  const opened = await pool.all((index) => {
    const targets: string[] = [];
    for (let i = index; i < load.sessions; i += workers) targets.push(targetNames?.[i] ?? `scale-${i}`);
    return { cmd: 'openSessions', plan: { endpoint, targets, raw, from: index * 10_000 } };
  });
  const openedCount = opened.reduce((sum, reply) => sum + (reply['opened'] as number), 0);
  // The opening's own work (handshakes, audit, collecting their garbage) settles first.
  await sleep(1_000);
  const idleBefore = await idleCpuPerSecond(serverPid);
  const warmupMs = 1_000;
  const startAt = Date.now() + 500;
  const drive = pool.all(() => ({ cmd: 'drive', plan: { startAt, warmupMs, durationMs, ratePerSession: load.ratePerSession } }));
  await sleep(startAt + warmupMs - Date.now());
  const cpuStart = cpuSeconds(serverPid);
  await sleep(durationMs);
  const busy = cpuSeconds(serverPid) - cpuStart;
  const replies = await drive;
  // The sessions are still open: the idle CPU again, and the smaller of the two is taken out.
  const idle = Math.min(idleBefore, await idleCpuPerSecond(serverPid));
  const cpu = busy - idle * (durationMs / 1000);
  await pool.all(() => ({ cmd: 'closeSessions' }));
  const latencies = replies.flatMap((reply) => reply['latenciesMs'] as number[]);
  const requests = replies.reduce((sum, reply) => sum + (reply['requests'] as number), 0);
  const failures = opened.flatMap((reply) => Object.entries(reply['failures'] as Record<string, number>));
  if (openedCount < load.sessions) console.log(`  ${path}: ${openedCount} of ${load.sessions} sessions opened (${failures.map(([k, v]) => `${k} ×${v}`).join(', ')})`);
  await sleep(1_000);
  return {
    ...load,
    path,
    opened: openedCount,
    requests,
    unanswered: replies.reduce((sum, reply) => sum + (reply['unanswered'] as number), 0),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    cpuPerRequestUs: requests > 0 ? (Math.max(0, cpu) / requests) * 1e6 : Number.NaN,
  };
}

/** CPU seconds per second `pid` spends over 2 s with the sessions open and no request. */
async function idleCpuPerSecond(pid: number): Promise<number> {
  const start = cpuSeconds(pid);
  await sleep(2_000);
  return (cpuSeconds(pid) - start) / 2;
}
