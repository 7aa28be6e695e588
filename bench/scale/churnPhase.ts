import { setTimeout as sleep } from 'node:timers/promises';
import type { ChurnResult } from './churnLoad.js';
import { openFds, rssBytes } from './procStats.js';
import type { MeasuredServer } from './servers.js';
import type { WorkerPool } from './workerPool.js';

/** One reading of the relay during the churn. */
export interface ChurnSample {
  readonly second: number;
  readonly rssMB: number;
  readonly heapMB: number | undefined;
  readonly fds: number;
}

/** What several minutes of churn did to the relay. */
export interface ChurnSummary {
  readonly agents: number;
  readonly seconds: number;
  readonly replacedAgents: number;
  readonly sessions: number;
  readonly sessionFailures: Record<string, number>;
  /** Every `sampleEveryMs`, from the start. */
  readonly samples: ChurnSample[];
}

const mb = (bytes: number): number => Math.round(bytes / 104_857.6) / 10;

/**
 * Churn against `server` for `durationMs`: `agents` agents stay connected while
 * `replacePerSecond` of them leave and new ones (new names) arrive every second, and
 * `sessionsPerSecond` short sessions attach and detach; RSS, heap and open descriptors
 * are read every `sampleEveryMs`.
 */
export async function measureChurn(
  pool: WorkerPool,
  server: MeasuredServer,
  agents: number,
  replacePerSecond: number,
  sessionsPerSecond: number,
  durationMs: number,
  sampleEveryMs = 5_000,
): Promise<ChurnSummary> {
  const workers = pool.workers.length;
  const endpoint = server.endpoint('tcps');
  const running = pool.all((index) => ({
    cmd: 'churn',
    plan: {
      endpoint,
      prefix: `churn${index}`,
      from: index * 1_000_000,
      agents: Math.floor(agents / workers),
      replacePerSecond: Math.max(1, Math.round(replacePerSecond / workers)),
      sessionsPerSecond: Math.max(1, Math.round(sessionsPerSecond / workers)),
      durationMs,
    },
  }));
  const started = Date.now();
  const samples: ChurnSample[] = [];
  while (Date.now() - started < durationMs) {
    await sleep(sampleEveryMs);
    const heap = await server.heapBytes();
    samples.push({
      second: Math.round((Date.now() - started) / 1000),
      rssMB: mb(rssBytes(server.pid())),
      heapMB: heap === undefined ? undefined : mb(heap),
      fds: openFds(server.pid()),
    });
  }
  const results = (await running) as unknown as ChurnResult[];
  const sessionFailures: Record<string, number> = {};
  for (const result of results) for (const [reason, count] of Object.entries(result.sessionFailures)) sessionFailures[reason] = (sessionFailures[reason] ?? 0) + count;
  return {
    agents,
    seconds: durationMs / 1000,
    replacedAgents: results.reduce((sum, result) => sum + result.replaced, 0),
    sessions: results.reduce((sum, result) => sum + result.sessions, 0),
    sessionFailures,
    samples,
  };
}
