import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisClusterStore } from '../../src/cluster/redisClusterStore.js';
import { fakeTargetInfo as info } from '../support/fakes/fakeTargetInfo.js';
import { startRedisServer, type RedisServer } from '../support/processes/redisServer.js';

/** The store of several relay instances on a real `redis-server`: claims, fencing, expiry, paging, shared lockouts. */
let redis: RedisServer;
const stores: RedisClusterStore[] = [];
let prefixCount = 0;

async function instances(count: number, entryTtlMs = 60_000): Promise<RedisClusterStore[]> {
  const keyPrefix = `{t${prefixCount++}}:`;
  const made: RedisClusterStore[] = [];
  for (let i = 0; i < count; i++) {
    const store = new RedisClusterStore({ url: redis.url, keyPrefix, commandTimeoutMs: 1_000, instanceId: `i${i}`, entryTtlMs });
    store.announce(`127.0.0.1:${9000 + i}`);
    await store.connect();
    await store.heartbeat();
    made.push(store);
    stores.push(store);
  }
  return made;
}

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  for (const store of stores) await store.close();
  await redis?.stop();
});

describe('the Redis cluster store', () => {
  it('routes a claimed target to its holder; a newer claim takes it and fences the old holder out', async () => {
    const [a, b] = await instances(2);
    // the same agent, moved from a to b (its newest connection is the truth)
    const first = (await a!.claim({ info: info('web'), agentId: 'agent-web', principal: 'relay-secret', attachSecret: 'ab'.repeat(32) }))!;
    expect(await b!.route('web')).toEqual({ instance: 'i0', peer: '127.0.0.1:9000', fence: first, attachSecret: 'ab'.repeat(32) });
    const second = (await b!.claim({ info: info('web'), agentId: 'agent-web', principal: 'relay-secret' }))!;
    expect(second).toBeGreaterThan(first);
    expect(await a!.route('web')).toMatchObject({ instance: 'i1', fence: second });
    // the stale holder can neither renew nor release the entry it lost
    expect(await a!.renew([{ name: 'web', fence: first, info: info('web') }])).toEqual(['lost']);
    await a!.release('web', first);
    expect(await a!.route('web')).toMatchObject({ instance: 'i1' });
    expect(await b!.renew([{ name: 'web', fence: second, info: info('web') }])).toEqual(['renewed']);
    await b!.release('web', second);
    expect(await a!.route('web')).toBeUndefined();
    // a claim that is gone (expired, or a store restarted empty) is told apart from one another instance took
    expect(await b!.renew([{ name: 'web', fence: second, info: info('web') }])).toEqual(['missing']);
  });

  it('leaves a name to the agent that holds it on a live instance, as one relay does (the same agentId from another principal too); takes it once that instance is gone', async () => {
    const [a, b] = await instances(2);
    const held = await a!.claim({ info: info('db'), agentId: 'agent-1', principal: 'team-a' });
    expect(held).toBeGreaterThan(0);
    expect(await b!.claim({ info: info('db'), agentId: 'agent-2', principal: 'team-a' })).toBeUndefined();
    // an agentId is no credential: another principal presenting it is another agent
    expect(await b!.claim({ info: info('db'), agentId: 'agent-1', principal: 'team-b' })).toBeUndefined();
    expect(await b!.route('db')).toMatchObject({ instance: 'i0', fence: held });
    // a stops: its entry has not expired yet, but an instance that is gone holds nothing
    await a!.leave();
    expect(await b!.claim({ info: info('db'), agentId: 'agent-2', principal: 'team-a' })).toBeGreaterThan(held!);
  });

  it('fences by instance too: after Redis restarts empty, a fencing token that repeats does not let the old holder renew or release', async () => {
    const [a, b] = await instances(2);
    const prefix = (a as unknown as { options: { keyPrefix: string } }).options.keyPrefix;
    const old = await a!.claim({ info: info('rs'), agentId: 'agent-rs', principal: 'relay-secret' });
    const raw = new Redis(redis.url);
    try {
      await raw.del(...(await raw.keys(`${prefix}*`))); // the store forgets everything, the fence counter too
    } finally {
      raw.disconnect();
    }
    await a!.heartbeat();
    await b!.heartbeat();
    const fresh = await b!.claim({ info: info('rs'), agentId: 'agent-rs', principal: 'relay-secret' });
    expect(fresh).toBe(old);
    expect(await a!.renew([{ name: 'rs', fence: old! }])).toEqual(['lost']);
    await a!.release('rs', old!);
    expect(await a!.route('rs')).toMatchObject({ instance: 'i1' });
  });

  it('after an outage claims only targets no other instance took', async () => {
    const [a, b] = await instances(2);
    await b!.claim({ info: info('api'), agentId: 'agent-api', principal: 'relay-secret' });
    expect(await a!.claimIfFree({ info: info('api'), agentId: 'agent-api', principal: 'relay-secret' })).toBeUndefined();
    expect(await a!.claimIfFree({ info: info('jobs'), agentId: 'agent-jobs', principal: 'relay-secret' })).toBeGreaterThan(0);
    expect(await b!.route('jobs')).toMatchObject({ instance: 'i0' });
  });

  it('forgets the routes of an instance that stops renewing, and lists only live entries in pages', async () => {
    const [a, b] = await instances(2, 1_000);
    for (const name of ['p1', 'p2', 'p3', 'p4', 'p5']) await a!.claim({ info: info(name), agentId: name, principal: 'relay-secret' });
    await b!.claim({ info: info('p6'), agentId: 'p6', principal: 'relay-secret' });
    const first = await b!.page(undefined, 4);
    expect(first.targets.map((t) => t.info.name)).toEqual(['p1', 'p2', 'p3', 'p4']);
    expect(first.boundary).toBe('p4');
    const rest = await b!.page(first.boundary, 4);
    expect(rest.targets.map((t) => t.info.name)).toEqual(['p5', 'p6']);
    expect(rest.boundary).toBeUndefined();
    // a stops renewing (killed); b goes on
    for (let i = 0; i < 4; i++) {
      await b!.heartbeat();
      await b!.renew([{ name: 'p6', fence: (await b!.route('p6'))!.fence, info: info('p6') }]);
      await sleep(400);
    }
    expect(await b!.route('p1')).toBeUndefined();
    expect((await b!.page(undefined, 10)).targets.map((t) => t.info.name)).toEqual(['p6']);
    expect(await b!.members()).toEqual(['i1']);
  });

  it('counts failures of a source across instances and locks it on all of them', async () => {
    const [a, b, c] = await instances(3);
    const policy = { threshold: 3, windowMs: 60_000, baseMs: 5_000, maxMs: 60_000, maxEntries: 100 };
    expect(await a!.recordFailure('10.0.0.9', policy)).toBe(0);
    expect(await b!.recordFailure('10.0.0.9', policy)).toBe(0);
    expect(await c!.lockedFor('10.0.0.9')).toBe(0);
    expect(await c!.recordFailure('10.0.0.9', policy)).toBe(5_000);
    for (const store of [a!, b!, c!]) expect(await store.lockedFor('10.0.0.9')).toBeGreaterThan(4_000);
    expect(await a!.lockedFor('10.0.0.10')).toBe(0);
  });

  it('says when the store cannot be reached, fails fast meanwhile, and comes back', async () => {
    const [a] = await instances(1);
    const changes: boolean[] = [];
    a!.onReachability((reachable) => changes.push(reachable));
    await redis.kill();
    await expect(a!.route('x')).rejects.toBeDefined();
    for (let i = 0; i < 50 && a!.reachable; i++) await sleep(20);
    expect(a!.reachable).toBe(false);
    // the address of a known instance stays usable without the store
    expect(await a!.instancePeer('i0')).toBe('127.0.0.1:9000');
    await redis.start();
    for (let i = 0; i < 50 && !a!.reachable; i++) await sleep(100);
    expect(a!.reachable).toBe(true);
    expect(changes).toEqual([false, true]);
  });

  it('counts a Redis that accepts but does not answer as unreachable after one timed-out command, so later ones fail at once', async () => {
    const [a] = await instances(1);
    redis.freeze(true);
    try {
      const started = Date.now();
      await expect(a!.lockedFor('10.0.0.11')).rejects.toThrow(/timed out/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900); // commandTimeoutMs of these stores is 1000
      for (let i = 0; i < 50 && a!.reachable; i++) await sleep(20);
      expect(a!.reachable).toBe(false);
      const again = Date.now();
      await expect(a!.lockedFor('10.0.0.11')).rejects.toBeDefined();
      expect(Date.now() - again).toBeLessThan(200);
    } finally {
      redis.freeze(false);
    }
    for (let i = 0; i < 100 && !a!.reachable; i++) await sleep(100);
    expect(a!.reachable).toBe(true);
    expect(await a!.lockedFor('10.0.0.11')).toBe(0);
  });
});
