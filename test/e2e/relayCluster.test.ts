import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DapTestClient } from '../support/dap/dapTestClient.js';
import { markerLine, startDebuggee, webAppPath, type Debuggee } from '../support/processes/debuggee.js';
import { startRedisServer, type RedisServer } from '../support/processes/redisServer.js';
import { startRelayCluster, type ClusterInstance, type RelayCluster } from '../support/processes/relayCluster.js';
import { startTcpBalancer, type TcpBalancer } from '../support/processes/tcpBalancer.js';
import { startSourceForwarder } from '../support/net/loopbackProxies.js';
import { attachSession, evaluate, listTargets, refusalSeenOnPort, startAttach, waitForStop, waitForTargets, type ClientAccess } from '../support/relay/relayClient.js';

/**
 * Three `dbgrelay serve` instances with a real Redis behind a real HAProxy (TCP, round
 * robin, health checks), as several relays run as one (docs/operations.md "Running
 * several relays"). Real agents with debugpy register through the balancer; clients
 * attach through every instance; the instance holding an agent is killed with
 * SIGKILL; Redis is killed and started again (empty) mid-test.
 */
const handleLine = markerLine('HANDLE');
const atHandle = { breakpoints: { path: webAppPath, lines: [{ line: handleLine }] } };
const entryTtlMs = 3_000;
const names = ['cl-a', 'cl-b', 'cl-c'];
/** A target with an attach secret: an engineer's principal other than the relay secret (an admin). */
const secretTarget = 'cl-s';
const attachSecret = 'cluster-attach-secret-0123456789';
const children: ChildProcess[] = [];
const debuggees: Debuggee[] = [];
let redis: RedisServer;
let cluster: RelayCluster;
let balancer: TcpBalancer;
let store: Redis;

const direct = (instance: ClusterInstance, secret = cluster.secret): ClientAccess => ({ relayUrl: `tcps://127.0.0.1:${instance.tcpsPort}`, caFile: cluster.caFile, secret });
const viaBalancer = (): ClientAccess => ({ relayUrl: `tcps://127.0.0.1:${balancer.ports['tcps']}`, caFile: cluster.caFile, secret: cluster.secret });

/** The instance the store names as the holder of `target`. */
async function holderOf(target: string): Promise<ClusterInstance | undefined> {
  const id = await store.hget(`{dbgrelay}:target:${target}`, 'instance');
  return cluster.instances.find((instance) => instance.id === id);
}

/** Attaches through `access`, reads the debuggee's pid with a breakpoint stop, and ends the session. */
async function pidThrough(access: ClientAccess, target: string): Promise<string> {
  const attach = await startAttach(access, target);
  let client: DapTestClient | undefined;
  try {
    client = await attachSession(attach.address.port, atHandle);
    const { frame } = await waitForStop(client, 'breakpoint', 20_000);
    const pid = await evaluate(client, 'os.getpid()', frame.id);
    await client.request('disconnect', { terminateDebuggee: false });
    return pid;
  } finally {
    await client?.close();
    await attach.close();
  }
}

async function sum(instance: ClusterInstance, metric: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${instance.metricsPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(metric))
    .reduce((total, line) => total + Number(line.split(' ').at(-1)), 0);
}

beforeAll(async () => {
  redis = await startRedisServer();
  cluster = await startRelayCluster(3, redis.url, { sessions: { exclusive: true }, cluster: { entryTtlMs }, auth: { lockout: { threshold: 3 } } }, children);
  balancer = await startTcpBalancer({ tcps: cluster.instances.map((instance) => instance.tcpsPort), wss: cluster.instances.map((instance) => instance.wssPort) });
  store = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 200 });
  store.on('error', () => undefined);
  for (const name of names) debuggees.push(startDebuggee({ relayUrl: `tcps://127.0.0.1:${balancer.ports['tcps']}`, name, secret: cluster.secret, caFile: cluster.caFile }));
  // over wss through the balancer: its data connections, too, land on any instance
  const agentUrl = `wss://${cluster.secret}@127.0.0.1:${balancer.ports['wss']}`;
  debuggees.push(startDebuggee({ relayUrl: agentUrl, name: secretTarget, secret: attachSecret, caFile: cluster.caFile }));
  // every instance lists every target, wherever its agent landed
  const all = [...names, secretTarget];
  for (const instance of cluster.instances) await waitForTargets(direct(instance), (targets) => all.every((name) => targets.some((t) => t.name === name)), 30_000);
}, 90_000);

afterAll(async () => {
  for (const debuggee of debuggees) debuggee.kill();
  store?.disconnect();
  await balancer?.stop();
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await redis?.stop();
});

describe('three relay instances with Redis behind HAProxy', () => {
  it('spreads the agents over the instances, and attaches through every instance to every target', async () => {
    const holders = await Promise.all(names.map((name) => holderOf(name)));
    expect(holders.every((holder) => holder !== undefined)).toBe(true);
    const forwardedBefore = await Promise.all(cluster.instances.map((instance) => sum(instance, 'dbgrelay_cluster_forwarded_sessions_total{outcome="ok"}')));
    for (const [index, name] of names.entries()) {
      const pid = String(debuggees[index]!.process.pid);
      for (const instance of cluster.instances) expect(await pidThrough(direct(instance), name)).toBe(pid);
    }
    // over wss too, to the target whose agent came over wss, through an instance that does not hold it
    const wssHolder = (await holderOf(secretTarget))!;
    const wssThrough = cluster.instances.find((instance) => instance !== wssHolder)!;
    const wssAccess = { relayUrl: `wss://127.0.0.1:${wssThrough.wssPort}`, caFile: cluster.caFile, secret: cluster.secret };
    expect(await pidThrough(wssAccess, secretTarget)).toBe(String(debuggees[names.length]!.process.pid));
    const forwardedAfter = await Promise.all(cluster.instances.map((instance) => sum(instance, 'dbgrelay_cluster_forwarded_sessions_total{outcome="ok"}')));
    // every target is held by one instance and reached through the two others
    expect(forwardedAfter.reduce((a, b) => a + b, 0) - forwardedBefore.reduce((a, b) => a + b, 0)).toBe(names.length * 2 + 1);
  }, 120_000);

  it('keeps one debugger per target across instances (attach secrets included); an admin takes over through a third instance', async () => {
    const holder = (await holderOf(secretTarget))!;
    const [first, second] = cluster.instances.filter((instance) => instance !== holder);
    // an engineer with the target's attach secret, checked by an instance that does not hold the target
    const attach = await startAttach(direct(first!, attachSecret), secretTarget);
    const client = await attachSession(attach.address.port, atHandle);
    await waitForStop(client, 'breakpoint', 20_000);
    // a second debugger through another instance: the holder's guardrails refuse it
    const busy = await startAttach(direct(second!), secretTarget);
    expect(await refusalSeenOnPort(busy.address.port)).toMatch(/being debugged by attach-secret:cl-s .*TARGET_BUSY/);
    await busy.close();
    // an admin's takeover requested on that other instance, for the session held through the first
    const takeover = await startAttach(direct(second!), secretTarget, { takeover: true });
    const admin = await attachSession(takeover.address.port);
    await client.closed;
    const threads = await admin.request<DebugProtocol.ThreadsResponse>('threads', {});
    expect(threads.body.threads.length).toBeGreaterThan(0);
    await admin.request('disconnect', { terminateDebuggee: false });
    await admin.close();
    await Promise.all([attach.close(), takeover.close()]);
    // the holder audited all three as its own sessions, with the principals and the clients' addresses
    const audit = readFileSync(join(holder.dataDir, 'audit.log'), 'utf8')
      .split('\n')
      .filter((line) => line.includes(`"target":"${secretTarget}"`))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(audit).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ event: 'session.opened', principal: 'attach-secret:cl-s', client: expect.stringMatching(/^127\.0\.0\.1:\d+$/) }),
        expect.objectContaining({ event: 'session.refused', principal: 'relay-secret', code: 'TARGET_BUSY' }),
        expect.objectContaining({ event: 'session.takenOver', principal: 'relay-secret', from: 'attach-secret:cl-s' }),
      ]),
    );
    // the refusal is audited once, by the holder; the forwarding instance only carried it
    const forwarderLog = join(second!.dataDir, 'audit.log');
    const forwarderRefusals = (existsSync(forwarderLog) ? readFileSync(forwarderLog, 'utf8') : '')
      .split('\n')
      .filter((line) => line.includes(`"target":"${secretTarget}"`) && line.includes('"event":"session.refused"'));
    expect(forwarderRefusals).toEqual([]);
  }, 60_000);

  it('a kill -9 of the instance holding a paused target: the program resumes, the agent comes back through the balancer, no stale route stays', async () => {
    const target = names[1]!;
    const index = names.indexOf(target);
    const holder = (await holderOf(target))!;
    const through = cluster.instances.find((instance) => instance !== holder)!;
    const attach = await startAttach(direct(through), target);
    const client = await attachSession(attach.address.port, atHandle);
    await waitForStop(client, 'breakpoint', 20_000);
    const debuggee = debuggees[index]!;
    const mark = debuggee.outputLength();
    await sleep(1_500);
    expect(debuggee.output().slice(mark)).not.toMatch(/tick \d+/); // paused
    try {
      await holder.kill9();
      await client.closed; // the forwarding instance closed the client's session with the link
      await debuggee.waitForOutput(/tick \d+/, 15_000, debuggee.outputLength()); // the program runs again
      await attach.close();
      // the agent registers again through the balancer, on a surviving instance, and the route follows it
      const deadline = Date.now() + 20_000;
      let moved: ClusterInstance | undefined;
      while (Date.now() < deadline) {
        moved = await holderOf(target);
        if (moved && moved !== holder) break;
        await sleep(200);
      }
      expect(moved?.id).not.toBe(holder.id);
      expect(await pidThrough(direct(through), target)).toBe(String(debuggee.process.pid));
      // the dead instance's entries expire: the store names no route to it
      await sleep(entryTtlMs + 500);
      for (const name of names) expect((await holderOf(name))?.id).not.toBe(holder.id);
      expect(await store.exists(`{dbgrelay}:instance:${holder.id}`)).toBe(0);
    } finally {
      if (holder.serve.child.exitCode !== null || holder.serve.child.signalCode !== null) await holder.start(); // the next tests use all three instances
    }
  }, 90_000);

  it('with Redis down, each instance serves its own targets and refuses the others with CLUSTER_UNAVAILABLE; after Redis returns (empty) it heals', async () => {
    const target = names[2]!;
    const holder = (await holderOf(target))!;
    const other = cluster.instances.find((instance) => instance !== holder)!;
    // a session forwarded before the outage goes on through it: the link needs no store
    const secretHolder = (await holderOf(secretTarget))!;
    const secretOther = cluster.instances.find((instance) => instance !== secretHolder)!;
    const running = await startAttach(direct(other), target);
    const session = await attachSession(running.address.port, atHandle);
    const { frame } = await waitForStop(session, 'breakpoint', 20_000);
    await redis.kill();
    await sleep(500);
    expect(await evaluate(session, 'os.getpid()', frame.id)).toBe(String(debuggees[2]!.process.pid));
    await session.request('disconnect', { terminateDebuggee: false });
    await session.close();
    await running.close();
    expect(await pidThrough(direct(holder), target)).toBe(String(debuggees[2]!.process.pid));
    const refused = await startAttach(direct(other), target);
    expect(await refusalSeenOnPort(refused.address.port)).toMatch(/CLUSTER_UNAVAILABLE/);
    await refused.close();
    // a good attach secret through an instance that cannot look it up now is not refused as a wrong one (nor counted as a guess)
    const failuresBefore = await sum(secretOther, 'dbgrelay_auth_failures_total{reason="AUTH_FAILED"}');
    const unsure = await startAttach(direct(secretOther, attachSecret), secretTarget);
    expect(await refusalSeenOnPort(unsure.address.port)).toMatch(/CLUSTER_UNAVAILABLE/);
    await unsure.close();
    expect(await sum(secretOther, 'dbgrelay_auth_failures_total{reason="AUTH_FAILED"}')).toBe(failuresBefore);
    const listed = await listTargets(direct(holder));
    expect(listed.map((t) => t.name)).toContain(target);
    await redis.start();
    // the instances claim their targets again; the route and the listing come back everywhere
    await waitForTargets(direct(other), (targets) => names.every((name) => targets.some((t) => t.name === name)), 30_000);
    expect(await pidThrough(direct(other), target)).toBe(String(debuggees[2]!.process.pid));
    // healing claimed the targets again; no agent was dropped for it
    const lost = await Promise.all(cluster.instances.map((instance) => sum(instance, 'dbgrelay_cluster_claims_lost_total')));
    expect(lost).toEqual([0, 0, 0]);
  }, 90_000);

  it('counts failed credentials across instances: guesses spread over three instances lock the source on all', async () => {
    const source = '127.0.0.7';
    const forwarders = await Promise.all(cluster.instances.map((instance) => startSourceForwarder(instance.tcpsPort, source)));
    try {
      const through = (i: number, secret: string): ClientAccess => ({ relayUrl: `tcps://127.0.0.1:${forwarders[i]!.port}`, caFile: cluster.caFile, secret });
      for (let i = 0; i < 3; i++) await expect(listTargets(through(i, 'wrong-secret-0123456789'))).rejects.toMatchObject({ code: 'AUTH_FAILED' });
      await sleep(200);
      // each instance saw one failure (below its own threshold of 3); the shared count locks the source everywhere
      for (let i = 0; i < 3; i++) await expect(listTargets(through(i, cluster.secret))).rejects.toMatchObject({ code: 'AUTH_LOCKED' });
      await expect(listTargets(viaBalancer())).resolves.toBeDefined(); // another source is not locked
    } finally {
      for (const forwarder of forwarders) await forwarder.close();
    }
  }, 60_000);
});
