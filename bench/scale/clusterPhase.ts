import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createCa, createLeaf, loopbackNames } from '../../src/certs/certificateFactory.js';
import { startRedisServer } from '../../test/support/processes/redisServer.js';
import { addAgents } from './fleetPhases.js';
import { rssBytes } from './procStats.js';
import { measureSessions, type SessionLoad, type SessionResult } from './sessionPhase.js';
import { startBenchRelay, startNginxBalancer } from './servers.js';
import { freePort } from '../tools/ports.js';
import type { WorkerPool } from './workerPool.js';

/** What three instances behind one balancer held, and what a forwarded request costs. */
export interface ClusterResult {
  readonly instances: number;
  /** Agents asked to register through the balancer, and how many did. */
  readonly agents: number;
  readonly registered: number;
  /** From the first dial to the last registration. */
  readonly seconds: number;
  readonly failures: Record<string, number>;
  /** Agents each instance held, and its RSS (MB). */
  readonly perInstance: Array<{ readonly agents: number; readonly rssMB: number }>;
  readonly redisRssMB: number;
  /** Sessions to targets of one instance, through that instance and through another. */
  readonly sessions: SessionResult[];
}

/** The loads of the cross- against same-instance comparison. */
const clusterLoads: readonly SessionLoad[] = [
  { sessions: 1, ratePerSession: 200 },
  { sessions: 10, ratePerSession: 50 },
  { sessions: 100, ratePerSession: 5 },
];

/** Peer certificates for `count` instances from a CA of their own, as files. */
function peerFiles(count: number): Array<{ certFile: string; keyFile: string; caFile: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-scale-peers-'));
  const ca = createCa('dbgrelay bench cluster CA');
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.certPem);
  return Array.from({ length: count }, (_, index) => {
    const leaf = createLeaf(ca, `relay-${index}`, { server: loopbackNames, client: true });
    const certFile = join(dir, `peer-${index}.pem`);
    const keyFile = join(dir, `peer-${index}-key.pem`);
    writeFileSync(certFile, leaf.certPem);
    writeFileSync(keyFile, leaf.keyPem, { mode: 0o600 });
    return { certFile, keyFile, caFile };
  });
}

/**
 * Three relay instances with one Redis behind nginx `stream` (TCP round robin, several
 * workers so that it holds more connections than one process's descriptor limit):
 * `agents` simulated agents register through it at `rampPerSecond`; then sessions to
 * targets held by the first instance run through that instance and through another,
 * on the same targets, to compare the forwarded path with the direct one.
 */
export async function measureCluster(pool: WorkerPool, logDir: string, agents: number, rampPerSecond: number, durationMs: number): Promise<ClusterResult> {
  const redis = await startRedisServer();
  const peers = peerFiles(3);
  const limits = { maxAgents: 100_000, maxSessionsPerPrincipal: 100_000 };
  const heartbeat = { heartbeatIntervalMs: 60_000, heartbeatTimeoutMs: 180_000 };
  const peerPorts = [await freePort(), await freePort(), await freePort()];
  const clusterConfig = (index: number) => ({
    cluster: {
      store: { url: redis.url },
      instanceId: `relay-${index}`,
      peer: { host: '127.0.0.1', port: peerPorts[index], advertise: `127.0.0.1:${peerPorts[index]}`, ...peers[index] },
    },
  });
  const relays = [await startBenchRelay(logDir, limits, heartbeat, { config: clusterConfig(0) })];
  for (const index of [1, 2]) relays.push(await startBenchRelay(logDir, limits, heartbeat, { config: clusterConfig(index), shareFilesOf: relays[0]!.files }));
  const balancer = await startNginxBalancer(
    relays.map((relay) => relay.endpoint('tcps').port),
    4,
    logDir,
  );
  const store = new Redis(redis.url);
  try {
    const endpoint = { ...relays[0]!.endpoint('tcps'), port: balancer.port };
    const startedAt = Date.now();
    await addAgents(pool, endpoint, 'scale', 0, agents, rampPerSecond);
    const { registered, failures, lastAt } = await awaitRegistered(pool, agents, startedAt, 600_000);
    await sleep(5_000);
    const perInstance = await Promise.all(relays.map(async (relay) => ({ agents: await heldBy(relay.metricsPort), rssMB: Math.round(rssBytes(relay.pid()) / 104_857.6) / 10 })));
    const redisInfo = await store.info('memory');
    const redisRssMB = Math.round(Number(/used_memory_rss:(\d+)/.exec(redisInfo)?.[1] ?? 0) / 104_857.6) / 10;
    // Targets the first instance holds, reached through it and through the second.
    const mostSessions = Math.max(...clusterLoads.map((load) => load.sessions));
    const held: string[] = [];
    for (let i = 0; held.length < mostSessions && i < agents; i++) {
      if ((await store.hget(`{dbgrelay}:target:scale-${i}`, 'instance')) === 'relay-0') held.push(`scale-${i}`);
    }
    const sessions: SessionResult[] = [];
    for (const load of clusterLoads) {
      const chosen = held.slice(0, load.sessions);
      console.log(`cluster: ${load.sessions} sessions, same instance`);
      sessions.push(await measureSessions(pool, 'same instance', relays[0]!.endpoint('tcps'), false, relays[0]!.pid(), load, durationMs, chosen));
      console.log(`cluster: ${load.sessions} sessions, through another instance`);
      sessions.push(await measureSessions(pool, 'cross-instance', relays[1]!.endpoint('tcps'), false, relays[0]!.pid(), load, durationMs, chosen));
    }
    await pool.all(() => ({ cmd: 'stopAgents' }));
    return { instances: relays.length, agents, registered, seconds: (lastAt - startedAt) / 1000, failures, perInstance, redisRssMB, sessions };
  } finally {
    store.disconnect();
    await balancer.stop();
    for (const relay of relays) await relay.stop();
    await redis.stop();
  }
}

/** Agents this instance holds, from its metrics. */
async function heldBy(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return Number(/^dbgrelay_cluster_held_targets (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

/** Polls the workers until `target` agents registered or `timeoutMs` passed. */
async function awaitRegistered(
  pool: WorkerPool,
  target: number,
  startedAt: number,
  timeoutMs: number,
): Promise<{ registered: number; failures: Record<string, number>; lastAt: number }> {
  let registered = 0;
  let lastAt = startedAt;
  let failures: Record<string, number> = {};
  while (Date.now() - startedAt < timeoutMs) {
    const replies = await pool.all(() => ({ cmd: 'stats' }));
    const now = replies.reduce((sum, reply) => sum + (reply['registered'] as number), 0);
    failures = {};
    for (const reply of replies) for (const [reason, count] of Object.entries(reply['failures'] as Record<string, number>)) failures[reason] = (failures[reason] ?? 0) + count;
    if (now !== registered) [registered, lastAt] = [now, Date.now()];
    if (registered >= target) break;
    await sleep(500);
  }
  return { registered, failures, lastAt };
}
