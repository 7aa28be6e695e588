import type { AgentConnection } from '../agents/agentConnection.js';
import { RelayError } from '../common/relayError.js';
import type { Logger } from '../log/logger.js';
import { describeTarget, type RegistryObserver, type TargetEntry, type TargetRegistry } from '../targets/targetRegistry.js';
import type { ClusterMetrics } from './clusterMetrics.js';
import type { ClusterStore, PublishedTarget } from './clusterStore.js';

/** A local agent entry and its claim in the store (no fence: not claimed yet, the store was unreachable). */
interface Held {
  fence: number | undefined;
  /** A claim or release of this entry is on its way. */
  busy: boolean;
  /** The listing entry last published, as JSON: a renewal sends it again only when it changed. */
  published?: string;
}

/** Claims renewed (or claimed again) per store round trip; the event loop is yielded between batches, so a large fleet never stalls sessions. */
const batchSize = 500;

/**
 * Publishes this instance's agents in the shared store and keeps the claims current
 * (docs/architecture.md "Several relays"):
 *
 * - a registration claims its name at once, whoever held it: the agent's newest
 *   connection is the truth, and the claim takes a new fencing token;
 * - every `renewMs` the instance renews its membership and every claim it holds by
 *   its token; a claim another instance took since is lost, and the agent connection
 *   here, now stale, is closed (a stale instance cannot keep or win back a target);
 * - while the store cannot be reached, agents register and their sessions run as
 *   before; once it answers again, each unclaimed target (and each claim that expired
 *   meanwhile, or that a store restarted empty forgot) is claimed only if no other
 *   instance took it meanwhile (else the connection here is the stale one);
 * - a clean stop releases every claim and the membership.
 */
export class TargetDirectory implements RegistryObserver<AgentConnection> {
  private readonly held = new Map<TargetEntry<AgentConnection>, Held>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  /** Releases the store did not take (unreachable), tried again each round. */
  private readonly unreleased: Array<{ readonly name: string; readonly fence: number }> = [];

  constructor(
    private readonly store: ClusterStore,
    private readonly registry: TargetRegistry<AgentConnection>,
    private readonly renewMs: number,
    private readonly metrics: ClusterMetrics,
    private readonly logger: Logger,
  ) {
    metrics.observeHeld(() => {
      let claimed = 0;
      for (const held of this.held.values()) if (held.fence !== undefined) claimed++;
      return claimed;
    });
    metrics.storeUp.set(store.reachable ? 1 : 0);
    store.onReachability((reachable) => {
      metrics.storeUp.set(reachable ? 1 : 0);
      if (reachable) {
        this.logger.info('cluster store reachable; claiming the targets registered meanwhile');
        this.tick();
      } else this.logger.warn('cluster store unreachable; serving the targets connected here, refusing the others with CLUSTER_UNAVAILABLE');
    });
    registry.observe(this);
  }

  /** Starts renewing; the first renewal (membership included) runs at once. */
  start(): void {
    this.timer = setInterval(() => this.tick(), this.renewMs);
    this.timer.unref();
    this.tick();
  }

  added(entry: TargetEntry<AgentConnection>): void {
    if (this.stopped) return;
    const held: Held = { fence: undefined, busy: true };
    this.held.set(entry, held);
    // An older release of this name still waiting is moot now, and after an empty restart its fence could be the new claim's.
    this.dropUnreleased(entry.name);
    this.store.claim(published(entry)).then(
      (fence) => {
        held.busy = false;
        this.settle(entry, held, fence, () => this.refuseName(entry));
      },
      () => {
        held.busy = false; // claimed once the store answers again (tick)
      },
    );
  }

  removed(entry: TargetEntry<AgentConnection>): void {
    const held = this.held.get(entry);
    if (!held) return;
    this.held.delete(entry);
    if (held.fence !== undefined) this.release(entry.name, held.fence);
  }

  /**
   * What a claim for `entry` came to: its fence, kept; or (undefined) a claim the store
   * refused, handed to `refused`. An entry that left meanwhile gives its new claim back.
   */
  private settle(entry: TargetEntry<AgentConnection>, held: Held, fence: number | undefined, refused: () => void): void {
    if (this.held.get(entry) !== held) {
      if (fence !== undefined) this.release(entry.name, fence);
    } else if (fence === undefined) refused();
    else held.fence = fence;
  }

  /** Releases a claim; one the store did not take is tried again each round (it would expire anyway, but routes to here until then). */
  private release(name: string, fence: number): void {
    this.store.release(name, fence).catch(() => {
      if (!this.stopped) this.unreleased.push({ name, fence });
    });
  }

  private dropUnreleased(name: string): void {
    for (let i = this.unreleased.length - 1; i >= 0; i--) if (this.unreleased[i]!.name === name) this.unreleased.splice(i, 1);
  }

  /** One renewal round; rounds never overlap. */
  private tick(): void {
    if (this.stopped || this.ticking) return;
    this.ticking = this.renewAll()
      .catch((error: unknown) => this.logger.debug({ reason: (error as Error).message }, 'cluster renewal failed'))
      .finally(() => (this.ticking = undefined));
  }

  private async renewAll(): Promise<void> {
    await this.store.heartbeat();
    for (const { name, fence } of this.unreleased.splice(0)) this.release(name, fence);
    const claimed = [...this.held].filter(([, held]) => held.fence !== undefined && !held.busy);
    for (let start = 0; start < claimed.length; start += batchSize) {
      if (start > 0) await new Promise((resolve) => setImmediate(resolve));
      const batch = claimed.slice(start, start + batchSize);
      const texts: string[] = [];
      const claims = batch.map(([entry, held]) => {
        const info = describeTarget(entry);
        const text = JSON.stringify(info);
        texts.push(text);
        return { name: entry.name, fence: held.fence!, ...(text !== held.published ? { info } : {}) };
      });
      const outcomes = await this.store.renew(claims);
      outcomes.forEach((outcome, index) => {
        const [entry, held] = batch[index]!;
        if (outcome === 'renewed') held.published = texts[index]!;
        else if (outcome === 'lost') this.lose(entry, 'another instance claimed it');
        else held.fence = undefined; // missing: claimed again below unless another instance took it
      });
    }
    // Claims the store lacks (registered during an outage, expired, or forgotten by a
    // restart), a batch at a time: the commands of a batch travel together.
    const unclaimed = [...this.held].filter(([, held]) => held.fence === undefined && !held.busy);
    for (let start = 0; start < unclaimed.length && !this.stopped; start += batchSize) {
      await Promise.all(unclaimed.slice(start, start + batchSize).map(([entry, held]) => this.claimAgain(entry, held)));
    }
  }

  /** Claims `entry` again if no other instance took it meanwhile; else the connection here is the stale one. */
  private async claimAgain(entry: TargetEntry<AgentConnection>, held: Held): Promise<void> {
    held.busy = true;
    try {
      const fence = await this.store.claimIfFree(published(entry));
      this.settle(entry, held, fence, () => this.lose(entry, 'another instance claimed it while the store was unreachable'));
    } finally {
      held.busy = false;
    }
  }

  /**
   * Another agent holds the name on another instance: the registration here is refused
   * as a relay alone refuses it (`TARGET_NAME_IN_USE`); the agent retries by its backoff.
   */
  private refuseName(entry: TargetEntry<AgentConnection>): void {
    this.held.delete(entry);
    this.logger.warn({ target: entry.name, agentId: entry.agentId }, 'target name registered by another agent on another relay instance; refusing this registration');
    if (this.registry.lookup(entry.name) === entry) {
      entry.agent?.close(new RelayError('TARGET_NAME_IN_USE', `target "${entry.name}" is registered by another agent`));
    }
  }

  /** Fencing: the claim is gone, so the agent connection here is stale and is closed. */
  private lose(entry: TargetEntry<AgentConnection>, why: string): void {
    if (!this.held.has(entry)) return;
    this.held.delete(entry);
    this.metrics.claimsLost.inc();
    this.logger.warn({ target: entry.name, agentId: entry.agentId }, `claim on target lost (${why}); closing the stale agent connection here`);
    if (this.registry.lookup(entry.name) === entry) entry.endpoint.close();
  }

  /** Stops renewing, releases every claim and the membership (errors ignored: the entries expire anyway). */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    const releases = [...this.held].filter(([, held]) => held.fence !== undefined).map(([entry, held]) => this.store.release(entry.name, held.fence!).catch(() => undefined));
    this.held.clear();
    await Promise.all([...releases, this.store.leave().catch(() => undefined)]);
  }
}

/** What the store gets of a local agent entry: its listing entry and its attach secret's shared form. */
function published(entry: TargetEntry<AgentConnection>): PublishedTarget {
  return { info: describeTarget(entry), agentId: entry.agentId ?? entry.name, principal: entry.agent?.principal.id ?? '', attachSecret: entry.agent?.attachSecret?.sharedForm() };
}
