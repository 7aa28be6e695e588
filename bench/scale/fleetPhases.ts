import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { builtCli } from '../../test/support/processes/cliProcess.js';
import { rssBytes } from './procStats.js';
import type { MeasuredServer } from './servers.js';
import type { WorkerPool } from './workerPool.js';

/** Idle memory at one fleet size. */
export interface MemoryPoint {
  readonly agents: number;
  readonly rssMB: number;
  readonly heapMB: number | undefined;
}

/** How a fleet came (back) to full registration. */
export interface ArrivalResult {
  /** From the moment the server listened (or the agents were started) to the last registration. */
  readonly seconds: number;
  /** Whether every agent registered within the bound. */
  readonly complete: boolean;
  readonly registered: number;
  /** Failed attempts by what the agent would log (`warning:…`, `error:…`). */
  readonly failures: Record<string, number>;
  /** Registrations in each second from the start. */
  readonly curve: number[];
  /** Control connections dialed in each second from the start. */
  readonly attempts: number[];
}

const mb = (bytes: number): number => Math.round((bytes / 1_048_576) * 10) / 10;

/** Sums the workers' counters. */
/** Adds per-second counts of one worker (`{ epochSecond: count }`) into `into`. */
function addSeconds(into: Map<number, number>, counts: Record<string, number>): void {
  for (const [second, count] of Object.entries(counts)) into.set(Number(second), (into.get(Number(second)) ?? 0) + count);
}

async function fleetStats(pool: WorkerPool): Promise<{ registered: number; failures: Record<string, number>; perSecond: Map<number, number>; attempts: Map<number, number> }> {
  const replies = await pool.all(() => ({ cmd: 'stats' }));
  const failures: Record<string, number> = {};
  const perSecond = new Map<number, number>();
  const attempts = new Map<number, number>();
  let registered = 0;
  for (const reply of replies) {
    registered += reply['registered'] as number;
    for (const [reason, count] of Object.entries(reply['failures'] as Record<string, number>)) failures[reason] = (failures[reason] ?? 0) + count;
    addSeconds(perSecond, reply['perSecond'] as Record<string, number>);
    addSeconds(attempts, reply['attemptsPerSecond'] as Record<string, number>);
  }
  return { registered, failures, perSecond, attempts };
}

/** Waits until `target` agents are registered (or `timeoutMs` passed); the arrival from `startedAt`. */
async function awaitFleet(pool: WorkerPool, target: number, startedAt: number, timeoutMs: number): Promise<ArrivalResult> {
  let stats = await fleetStats(pool);
  let lastChange = Date.now();
  let last = stats.registered;
  while (stats.registered < target && Date.now() - startedAt < timeoutMs) {
    await sleep(200);
    stats = await fleetStats(pool);
    if (stats.registered !== last) [last, lastChange] = [stats.registered, Date.now()];
  }
  const complete = stats.registered >= target;
  const end = complete ? lastChange : Date.now();
  const first = Math.floor(startedAt / 1000);
  const seconds = Array.from({ length: Math.ceil((end - startedAt) / 1000) + 1 }, (_, i) => first + i);
  return {
    seconds: (end - startedAt) / 1000,
    complete,
    registered: stats.registered,
    failures: stats.failures,
    curve: seconds.map((second) => stats.perSecond.get(second) ?? 0),
    attempts: seconds.map((second) => stats.attempts.get(second) ?? 0),
  };
}

/** Starts `count` more agents (names `prefix-N` from `from`) spread over the workers, `perSecond` in all (0: all at once). */
export async function addAgents(pool: WorkerPool, endpoint: ReturnType<MeasuredServer['endpoint']>, prefix: string, from: number, count: number, perSecond: number): Promise<void> {
  const workers = pool.workers.length;
  await pool.all((index) => {
    const share = Math.floor(count / workers) + (index < count % workers ? 1 : 0);
    const start = from + index * Math.floor(count / workers) + Math.min(index, count % workers);
    return { cmd: 'agents', endpoint, prefix, from: start, count: share, perSecond: perSecond / workers };
  });
}

/**
 * Idle memory of `server` at 0 and at each size of `steps` (agents added at
 * `rampPerSecond`, then `settleMs` of quiet before reading).
 */
export async function measureIdleMemory(
  pool: WorkerPool,
  server: MeasuredServer,
  transport: 'tcps' | 'wss',
  steps: readonly number[],
  rampPerSecond: number,
  settleMs: number,
): Promise<MemoryPoint[]> {
  const point = async (agents: number): Promise<MemoryPoint> => ({
    agents,
    rssMB: mb(rssBytes(server.pid())),
    heapMB: await server.heapBytes().then((b) => (b === undefined ? undefined : mb(b))),
  });
  await sleep(settleMs);
  const points = [await point(0)];
  let present = 0;
  for (const step of steps) {
    await addAgents(pool, server.endpoint(transport), 'scale', present, step - present, rampPerSecond);
    present = step;
    const arrival = await awaitFleet(pool, step, Date.now(), 180_000);
    if (!arrival.complete) throw new Error(`only ${arrival.registered} of ${step} agents registered: ${JSON.stringify(arrival.failures)}`);
    await sleep(settleMs);
    points.push(await point(step));
  }
  return points;
}

/**
 * Time a restarted server stays down before it starts again (as systemd's
 * `RestartSec` would), the same for every server, so that their agents are equally
 * deep in their backoff when it comes back and a server that boots slower is not
 * counted twice.
 */
export const restartDowntimeMs = 5_000;

/** With the fleet registered, `kill -9`, {@link restartDowntimeMs}, and start `server` again; how the agents came back once it listened. */
export async function measureRestart(pool: WorkerPool, server: MeasuredServer, agents: number): Promise<ArrivalResult> {
  await server.kill9();
  await pool.all(() => ({ cmd: 'resetCounters' }));
  await sleep(restartDowntimeMs);
  await server.restart();
  return awaitFleet(pool, agents, Date.now(), 240_000);
}

/** Stops every agent, restarts `server` empty, then starts `agents` agents at once; how they arrived. */
export async function measureStorm(pool: WorkerPool, server: MeasuredServer, transport: 'tcps' | 'wss', agents: number): Promise<ArrivalResult> {
  await pool.all(() => ({ cmd: 'stopAgents' }));
  await server.kill9();
  await server.restart();
  await sleep(2_000);
  const startedAt = Date.now();
  await addAgents(pool, server.endpoint(transport), 'storm', 0, agents, 0);
  return awaitFleet(pool, agents, startedAt, 240_000);
}

/** `dbgrelay targets --json` against a relay holding the fleet: how many targets it listed and how long it took. */
export async function measureListing(relay: MeasuredServer, transport: 'tcps' | 'wss', caFile: string, secretFile: string): Promise<{ targets: number; seconds: number }> {
  const { port } = relay.endpoint(transport);
  const started = Date.now();
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [builtCli, 'targets', '--json', '--relay', `${transport}://127.0.0.1:${port}`, '--ca', caFile, '--secret-file', secretFile],
    {
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  const listed = JSON.parse(stdout) as unknown[] | { targets: unknown[] };
  return { targets: Array.isArray(listed) ? listed.length : listed.targets.length, seconds: (Date.now() - started) / 1000 };
}
