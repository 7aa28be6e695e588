import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { AgentConnection } from '../../../src/agents/agentConnection.js';
import { ClusterMetrics } from '../../../src/cluster/clusterMetrics.js';
import type { RelayError } from '../../../src/common/relayError.js';
import type { ClusterStore, HeldClaim, PublishedTarget, RenewOutcome } from '../../../src/cluster/clusterStore.js';
import { TargetDirectory } from '../../../src/cluster/targetDirectory.js';
import pino from 'pino';
import type { RegisterMessage } from '../../../src/protocol/controlMessages.js';
import { TargetRegistry } from '../../../src/targets/targetRegistry.js';

/** An in-memory store with the Redis store's claim semantics, and a switch to make it unreachable. */
class MemoryStore {
  reachable = true;
  private fence = 0;
  readonly holders = new Map<string, { instance: string; fence: number; agentId: string }>();
  private readonly listeners: Array<(up: boolean) => void> = [];
  released: string[] = [];
  constructor(private readonly instance: string) {}
  private check(): void {
    if (!this.reachable) throw new Error('unreachable');
  }
  setReachable(up: boolean): void {
    this.reachable = up;
    for (const listener of this.listeners) listener(up);
  }
  onReachability(listener: (up: boolean) => void): void {
    this.listeners.push(listener);
  }
  async claim(target: PublishedTarget): Promise<number | undefined> {
    this.check();
    const holder = this.holders.get(target.info.name);
    if (holder && holder.instance !== this.instance && holder.agentId !== target.agentId) return undefined;
    this.holders.set(target.info.name, { instance: this.instance, fence: ++this.fence, agentId: target.agentId });
    return this.fence;
  }
  async claimIfFree(target: PublishedTarget): Promise<number | undefined> {
    this.check();
    const holder = this.holders.get(target.info.name);
    if (holder && holder.instance !== this.instance) return undefined;
    return this.claim(target);
  }
  /** The store restarts empty. */
  forgetAll(): void {
    this.holders.clear();
  }
  /** Another instance claims `name`. */
  takeBy(name: string, instance: string, agentId = name): void {
    this.holders.set(name, { instance, fence: ++this.fence, agentId });
  }
  async renew(claims: readonly HeldClaim[]): Promise<RenewOutcome[]> {
    this.check();
    return claims.map((claim) => {
      const holder = this.holders.get(claim.name);
      return holder === undefined ? 'missing' : holder.fence === claim.fence ? 'renewed' : 'lost';
    });
  }
  async release(name: string, fence: number): Promise<void> {
    this.check();
    if (this.holders.get(name)?.fence === fence) this.holders.delete(name);
    this.released.push(name);
  }
  async heartbeat(): Promise<void> {
    this.check();
  }
  async leave(): Promise<void> {}
}

class FakeAgent {
  closed = 0;
  closedWith: RelayError | undefined;
  attachSecret = undefined;
  readonly principal = { id: 'relay-secret' };
  open(): never {
    throw new Error('not used');
  }
  close(error?: RelayError): void {
    this.closed++;
    this.closedWith = error;
  }
}

function registration(name: string, agentId: string): RegisterMessage {
  return { type: 'register', agentId, target: { name }, process: { pid: 1, host: 'h', python: '3', debugpy: '1', agent: '1' } };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

function setUp() {
  const store = new MemoryStore('me');
  const registry = new TargetRegistry<AgentConnection>();
  const metrics = new ClusterMetrics(new Registry());
  const directory = new TargetDirectory(store as unknown as ClusterStore, registry, 20, metrics, pino({ level: 'silent' }));
  directory.start();
  const register = (name: string, agentId = name): FakeAgent => {
    const agent = new FakeAgent();
    registry.register(agent as unknown as AgentConnection, registration(name, agentId), 'tcps');
    return agent;
  };
  return { store, registry, directory, register };
}

describe('TargetDirectory', () => {
  it('claims each registered target, releases it when the agent leaves, and everything on close', async () => {
    const { store, registry, directory, register } = setUp();
    const web = register('web');
    register('api');
    await settle();
    expect([...store.holders.keys()].sort()).toEqual(['api', 'web']);
    registry.remove(web as unknown as AgentConnection);
    await settle();
    expect([...store.holders.keys()]).toEqual(['api']);
    await directory.close();
    expect(store.holders.size).toBe(0);
  });

  it('fences: a claim another instance took closes the stale agent connection here, and it is not claimed back', async () => {
    const { store, directory, register } = setUp();
    const web = register('web');
    await settle();
    store.takeBy('web', 'other');
    await settle();
    expect(web.closed).toBe(1);
    expect(store.holders.get('web')?.instance).toBe('other');
    await directory.close();
  });

  it('claims again, keeping its agents, what a store that restarted empty forgot', async () => {
    const { store, directory, register } = setUp();
    const web = register('web');
    await settle();
    store.forgetAll();
    await settle();
    expect(store.holders.get('web')?.instance).toBe('me');
    expect(web.closed).toBe(0);
    await directory.close();
  });

  it('registers while the store is down, then claims what nobody took and gives up what another instance took', async () => {
    const { store, directory, register } = setUp();
    store.setReachable(false);
    const mine = register('mine');
    const taken = register('taken');
    await settle();
    expect(store.holders.size).toBe(0);
    store.takeBy('taken', 'other');
    store.setReachable(true);
    await settle();
    expect(store.holders.get('mine')?.instance).toBe('me');
    expect(mine.closed).toBe(0);
    expect(store.holders.get('taken')?.instance).toBe('other');
    expect(taken.closed).toBe(1);
    await directory.close();
  });

  it('refuses with TARGET_NAME_IN_USE a name another agent holds on another instance, as one relay does', async () => {
    const { store, registry, directory, register } = setUp();
    store.takeBy('db', 'other', 'agent-elsewhere');
    const late = register('db', 'agent-here');
    await settle();
    expect(late.closedWith?.code).toBe('TARGET_NAME_IN_USE');
    expect(store.holders.get('db')).toMatchObject({ instance: 'other', agentId: 'agent-elsewhere' });
    registry.remove(late as unknown as AgentConnection);
    // the same agent moving here takes its name over
    register('db', 'agent-elsewhere');
    await settle();
    expect(store.holders.get('db')).toMatchObject({ instance: 'me', agentId: 'agent-elsewhere' });
    await directory.close();
  });

  it('tries a release the store did not take again, so no route to a departed agent outlives the outage', async () => {
    const { store, registry, directory, register } = setUp();
    const web = register('web');
    await settle();
    store.reachable = false; // fails commands without telling the directory yet
    registry.remove(web as unknown as AgentConnection);
    await settle();
    expect(store.holders.has('web')).toBe(true);
    store.reachable = true;
    await settle();
    expect(store.holders.has('web')).toBe(false);
    await directory.close();
  });
});
