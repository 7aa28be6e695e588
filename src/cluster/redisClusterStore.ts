import { Redis } from 'ioredis';
import type { SharedLockout } from '../auth/sharedLockout.js';
import { linkKeepAliveMs } from './peerTls.js';
import type { LockoutPolicy } from '../auth/lockoutTable.js';
import type { TargetInfo } from '../protocol/controlMessages.js';
import type { ClusterStore, HeldClaim, PublishedTarget, RenewOutcome, StoredTarget, StoredTargetPage, TargetRoute } from './clusterStore.js';

/** Where the store is and who this instance is. */
export interface RedisStoreOptions {
  /** `redis://` or `rediss://` URL (never logged: it may hold a password). */
  readonly url: string;
  readonly keyPrefix: string;
  readonly commandTimeoutMs: number;
  readonly instanceId: string;
  /** Life of an entry without renewal. */
  readonly entryTtlMs: number;
}

// Every claim takes the next fencing token. A claim leaves alone a name that another
// agent holds on a live instance (another agentId, or the same one registered by another
// principal: an agentId is no credential), as one relay refuses it; a conditional claim
// (after an outage) leaves alone any target another instance holds.
// KEYS: target hash, fence counter, name index. ARGV: instance, peer, info, ttl, name,
// onlyIfFree, attach secret (shared form or ''), agentId, instance key prefix, principal.
// Returns the fence, -1 (held by another instance) or -2 (name in use by another agent).
const claimScript = `
local holder = redis.call('HMGET', KEYS[1], 'instance', 'agent', 'owner')
if holder[1] and holder[1] ~= ARGV[1] then
  if ARGV[6] == '1' then return -1 end
  if (holder[2] ~= ARGV[8] or holder[3] ~= ARGV[10]) and redis.call('EXISTS', ARGV[9] .. holder[1]) == 1 then return -2 end
end
local fence = redis.call('INCR', KEYS[2])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'fence', fence, 'instance', ARGV[1], 'peer', ARGV[2], 'info', ARGV[3], 'secret', ARGV[7], 'agent', ARGV[8], 'owner', ARGV[10])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[3], 0, ARGV[5])
return fence`;

// Fencing tokens start again at 1 when Redis restarts empty, so renewals and releases
// compare the instance too. KEYS: target hash. ARGV: fence, info ('' when unchanged),
// ttl, instance. 1 renewed, 0 lost (another claim), -1 missing (expired, or a store
// that lost its data).
const renewScript = `
local v = redis.call('HMGET', KEYS[1], 'fence', 'instance')
if not v[1] then return -1 end
if v[1] == ARGV[1] and v[2] == ARGV[4] then
  if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'info', ARGV[2]) end
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0`;

// KEYS: target hash, name index. ARGV: fence, name, instance.
const releaseScript = `
local v = redis.call('HMGET', KEYS[1], 'fence', 'instance')
if v[1] == ARGV[1] and v[2] == ARGV[3] then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[2])
end
return 0`;

// A route counts only while its instance is a live member. KEYS: target hash. ARGV: instance key prefix.
const routeScript = `
local v = redis.call('HMGET', KEYS[1], 'fence', 'instance', 'peer', 'secret')
if not v[1] then return nil end
if redis.call('EXISTS', ARGV[1] .. v[2]) == 0 then return nil end
return v`;

// KEYS: name index. ARGV: min (lex range), limit, target key prefix. Names whose entry expired are dropped from the index.
const pageScript = `
local names = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], '+', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, name in ipairs(names) do
  local v = redis.call('HMGET', ARGV[3] .. name, 'fence', 'instance', 'peer', 'info')
  if v[1] then out[#out + 1] = {name, v[1], v[2], v[3], v[4]} else redis.call('ZREM', KEYS[1], name) end
end
local boundary = ''
if #names >= tonumber(ARGV[2]) then boundary = names[#names] end
return {boundary, out}`;

// KEYS: failures in the window, lock, lockouts so far. ARGV: windowMs, threshold, baseMs, maxMs.
// Returns the lockout this failure started (ms), or 0.
const failureScript = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if n < tonumber(ARGV[2]) then return 0 end
local level = redis.call('INCR', KEYS[3])
local ms = math.floor(math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) * 2 ^ (level - 1)))
redis.call('PEXPIRE', KEYS[3], ms + tonumber(ARGV[4]))
redis.call('SET', KEYS[2], '1', 'PX', ms)
redis.call('DEL', KEYS[1])
return ms`;

interface ScriptedRedis extends Redis {
  claimTarget(
    target: string,
    fence: string,
    names: string,
    instance: string,
    peer: string,
    info: string,
    ttl: number,
    name: string,
    onlyIfFree: string,
    secret: string,
    agentId: string,
    instancePrefix: string,
    principal: string,
  ): Promise<number>;
  renewTarget(target: string, fence: number, info: string, ttl: number, instance: string): Promise<number>;
  releaseTarget(target: string, names: string, fence: number, name: string, instance: string): Promise<number>;
  routeTarget(target: string, instancePrefix: string): Promise<[string, string, string, string | null] | null>;
  pageTargets(names: string, min: string, limit: number, targetPrefix: string): Promise<[string, Array<[string, string, string, string, string]>]>;
  countFailure(failures: string, lock: string, level: string, windowMs: number, threshold: number, baseMs: number, maxMs: number): Promise<number>;
}

/**
 * The {@link ClusterStore} on Redis (ioredis): a hash per target with a fencing token
 * from one counter, a sorted set of names for paging, a key per live instance, all
 * expiring unless renewed; and the failure counts of {@link SharedLockout}. Commands
 * are never queued while Redis is unreachable: they fail at once, and the caller
 * falls back to what the instance knows alone.
 */
export class RedisClusterStore implements ClusterStore, SharedLockout {
  private readonly redis: ScriptedRedis;
  private readonly listeners: Array<(reachable: boolean) => void> = [];
  private up = false;
  /** `host:port` of this instance's peer listener, announced once it listens. */
  private peer = '';
  /**
   * The peer addresses of the instances last seen alive, so that an agent's data
   * connection can still be handed to the instance waiting for it while the store is
   * unreachable (instances keep their address for their life).
   */
  private readonly knownPeers = new Map<string, string>();
  private readonly keys: { readonly target: string; readonly names: string; readonly fence: string; readonly instance: string; readonly auth: string };

  constructor(private readonly options: RedisStoreOptions) {
    const prefix = options.keyPrefix;
    this.keys = { target: `${prefix}target:`, names: `${prefix}targets`, fence: `${prefix}fence`, instance: `${prefix}instance:`, auth: `${prefix}auth:` };
    this.redis = new Redis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs,
      connectTimeout: options.commandTimeoutMs,
      // A store host that vanished without a FIN is noticed by TCP keepalive too, not only by a command timing out.
      keepAlive: linkKeepAliveMs,
      // Reconnect for as long as the relay runs, at most every 2 s.
      retryStrategy: (times) => Math.min(100 * times, 2_000),
    }) as ScriptedRedis;
    this.redis.defineCommand('claimTarget', { numberOfKeys: 3, lua: claimScript });
    this.redis.defineCommand('renewTarget', { numberOfKeys: 1, lua: renewScript });
    this.redis.defineCommand('releaseTarget', { numberOfKeys: 2, lua: releaseScript });
    this.redis.defineCommand('routeTarget', { numberOfKeys: 1, lua: routeScript });
    this.redis.defineCommand('pageTargets', { numberOfKeys: 1, lua: pageScript });
    this.redis.defineCommand('countFailure', { numberOfKeys: 3, lua: failureScript });
    this.redis.on('ready', () => this.setReachable(true));
    this.redis.on('close', () => this.setReachable(false));
    // Errors are seen as failed commands and reachability; the event must have a listener.
    this.redis.on('error', () => this.setReachable(false));
  }

  /** Sets the `host:port` other instances dial for this instance's targets (before {@link connect}). */
  announce(peer: string): void {
    this.peer = peer;
  }

  /** Connects; resolves even when Redis is down (the instance then serves its own targets until it is up). */
  async connect(): Promise<void> {
    try {
      await this.redis.connect();
    } catch {
      // ioredis keeps reconnecting by its retry strategy; `onReachability` tells when it is back.
    }
  }

  get reachable(): boolean {
    return this.up;
  }

  onReachability(listener: (reachable: boolean) => void): void {
    this.listeners.push(listener);
  }

  /**
   * A command that timed out means a Redis that accepts connections but does not answer
   * (hung, or a half-open connection): the connection is dropped and dialed again, so
   * that the store counts as unreachable and commands fail at once until it answers,
   * instead of each waiting `commandTimeoutMs`.
   */
  private async watch<T>(command: Promise<T>): Promise<T> {
    try {
      return await command;
    } catch (error) {
      this.dropIfTimedOut(error);
      throw error;
    }
  }

  private dropIfTimedOut(error: unknown): void {
    if ((error as Error).message !== 'Command timed out' || this.redis.status !== 'ready') return;
    this.setReachable(false);
    // Destroyed, not ended: a hung server would never finish a graceful close. ioredis then dials again.
    this.redis.stream.destroy();
  }

  private setReachable(reachable: boolean): void {
    if (this.up === reachable) return;
    this.up = reachable;
    for (const listener of this.listeners) listener(reachable);
  }

  async claim(target: PublishedTarget): Promise<number | undefined> {
    return this.claimWith(target, false);
  }

  async claimIfFree(target: PublishedTarget): Promise<number | undefined> {
    return this.claimWith(target, true);
  }

  private async claimWith({ info, attachSecret, agentId, principal }: PublishedTarget, onlyIfFree: boolean): Promise<number | undefined> {
    const { instanceId, entryTtlMs } = this.options;
    const peer = this.peer;
    const fence = await this.watch(
      this.redis.claimTarget(
        this.keys.target + info.name,
        this.keys.fence,
        this.keys.names,
        instanceId,
        peer,
        JSON.stringify(info),
        entryTtlMs,
        info.name,
        onlyIfFree ? '1' : '0',
        attachSecret ?? '',
        agentId,
        this.keys.instance,
        principal,
      ),
    );
    return fence < 0 ? undefined : fence;
  }

  async renew(claims: readonly HeldClaim[]): Promise<RenewOutcome[]> {
    if (claims.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const claim of claims)
      (pipeline as unknown as ScriptedRedis).renewTarget(
        this.keys.target + claim.name,
        claim.fence,
        claim.info === undefined ? '' : JSON.stringify(claim.info),
        this.options.entryTtlMs,
        this.options.instanceId,
      );
    const results = (await this.watch(pipeline.exec())) ?? [];
    return results.map(([error, value]) => {
      if (error) {
        this.dropIfTimedOut(error);
        throw error;
      }
      return value === 1 ? 'renewed' : value === 0 ? 'lost' : 'missing';
    });
  }

  async release(name: string, fence: number): Promise<void> {
    await this.watch(this.redis.releaseTarget(this.keys.target + name, this.keys.names, fence, name, this.options.instanceId));
  }

  async route(name: string): Promise<TargetRoute | undefined> {
    const found = await this.watch(this.redis.routeTarget(this.keys.target + name, this.keys.instance));
    if (!found) return undefined;
    const [fence, instance, peer, attachSecret] = found;
    return { fence: Number(fence), instance, peer, ...(attachSecret ? { attachSecret } : {}) };
  }

  async page(after: string | undefined, limit: number): Promise<StoredTargetPage> {
    const [boundary, rows] = await this.watch(this.redis.pageTargets(this.keys.names, after === undefined ? '-' : `(${after}`, limit, this.keys.target));
    const targets: StoredTarget[] = rows.map(([, fence, instance, peer, info]) => ({ fence: Number(fence), instance, peer, info: JSON.parse(info) as TargetInfo }));
    return { targets, boundary: boundary === '' ? undefined : boundary };
  }

  async heartbeat(): Promise<void> {
    await this.watch(this.redis.set(this.keys.instance + this.options.instanceId, this.peer, 'PX', this.options.entryTtlMs));
    const ids = await this.members();
    const peers = ids.length === 0 ? [] : await this.redis.mget(ids.map((id) => this.keys.instance + id));
    this.knownPeers.clear();
    ids.forEach((id, index) => {
      const peer = peers[index];
      if (peer) this.knownPeers.set(id, peer);
    });
  }

  async leave(): Promise<void> {
    await this.redis.del(this.keys.instance + this.options.instanceId);
  }

  async instancePeer(instanceId: string): Promise<string | undefined> {
    try {
      const peer = (await this.watch(this.redis.get(this.keys.instance + instanceId))) ?? undefined;
      if (peer === undefined) this.knownPeers.delete(instanceId);
      else this.knownPeers.set(instanceId, peer);
      return peer;
    } catch (error) {
      const known = this.knownPeers.get(instanceId);
      if (known === undefined) throw error;
      return known;
    }
  }

  async members(): Promise<string[]> {
    const members: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.keys.instance}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) members.push(key.slice(this.keys.instance.length));
    } while (cursor !== '0');
    return members.sort();
  }

  async lockedFor(source: string): Promise<number> {
    const ms = await this.watch(this.redis.pttl(`${this.keys.auth}lock:${source}`));
    return ms > 0 ? ms : 0;
  }

  async recordFailure(source: string, policy: LockoutPolicy): Promise<number> {
    const base = `${this.keys.auth}`;
    return this.watch(
      this.redis.countFailure(`${base}fail:${source}`, `${base}lock:${source}`, `${base}level:${source}`, policy.windowMs, policy.threshold, policy.baseMs, policy.maxMs),
    );
  }

  async close(): Promise<void> {
    this.redis.disconnect(false);
    this.setReachable(false);
  }
}
