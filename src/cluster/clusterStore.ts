import { RelayError } from '../common/relayError.js';
import type { TargetInfo } from '../protocol/controlMessages.js';

/** Where a target's agent is connected: the instance holding it, how peers reach it, and the fence of its claim. */
export interface TargetRoute {
  readonly instance: string;
  /** `host:port` of the holding instance's peer listener. */
  readonly peer: string;
  /**
   * The claim's fencing token: every claim takes a new, larger one from the store, and
   * only the holder of the current token may renew or release the entry.
   */
  readonly fence: number;
  /** The target's attach secret in its shared form (a SHA-256 digest), when it has one. */
  readonly attachSecret?: string;
}

/** What an instance publishes of a target it holds. */
export interface PublishedTarget {
  readonly info: TargetInfo;
  /** The registering agent's `agentId`: another agent's registration of the name is refused while this one holds it. */
  readonly agentId: string;
  /** The id of the principal the agent registered as: the same `agentId` from another principal is another agent. */
  readonly principal: string;
  /** The attach secret's shared form (`AttachSecret.sharedForm`), when the target has one. */
  readonly attachSecret?: string | undefined;
}

/** A target's route with its listing entry, as the store last had it renewed. */
export interface StoredTarget extends TargetRoute {
  readonly info: TargetInfo;
}

/** One page of the store's targets, names ascending. */
export interface StoredTargetPage {
  readonly targets: StoredTarget[];
  /**
   * When the page was full: the last name the store looked at (its entry may have
   * expired). Names after it were not looked at, so a merged page must end there.
   */
  readonly boundary: string | undefined;
}

/**
 * What {@link ClusterStore.renew} found for one claim: still this instance's, taken by
 * another instance, or gone (it expired while the store was unreachable, or the store
 * restarted empty): then it may be claimed again if nobody else did.
 */
export type RenewOutcome = 'renewed' | 'lost' | 'missing';

/** One claim to renew: the target, the token it was claimed with, and its listing entry when it changed. */
export interface HeldClaim {
  readonly name: string;
  readonly fence: number;
  readonly info?: TargetInfo;
}

/**
 * The shared store behind several relay instances (docs/architecture.md "Several
 * relays"): which instance holds which target, and which instances are alive. Every
 * entry expires unless its holder renews it; every method rejects when the store
 * cannot be reached, and callers treat that as "store unreachable".
 */
export interface ClusterStore {
  /**
   * Claims the target for this instance: returns the new fencing token. A claim takes
   * the target from whatever instance held it for the same agent (the agent's newest
   * connection is the truth); undefined, and nothing claimed, when another agent (another
   * `agentId`) holds the name on a live instance, as a relay alone refuses it.
   */
  claim(target: PublishedTarget): Promise<number | undefined>;
  /** Claims the target only when no other instance holds it (after an outage); undefined when another does. */
  claimIfFree(target: PublishedTarget): Promise<number | undefined>;
  /** Renews each claim whose fence is still current; a claim another instance took since is `lost`, one that is gone `missing`. */
  renew(claims: readonly HeldClaim[]): Promise<RenewOutcome[]>;
  /** Removes the entry of `name` if `fence` is still its current token. */
  release(name: string, fence: number): Promise<void>;
  /** The route to `name`, undefined when no live instance holds it. */
  route(name: string): Promise<TargetRoute | undefined>;
  /** Up to `limit` targets whose names sort after `after` (all when undefined). */
  page(after: string | undefined, limit: number): Promise<StoredTargetPage>;
  /** Announces (and renews) this instance as alive, reachable at its peer address; notes the others' addresses. */
  heartbeat(): Promise<void>;
  /** Removes this instance's membership entry (a clean stop). */
  leave(): Promise<void>;
  /**
   * The peer address (`host:port`) of live instance `instanceId`, undefined when it is
   * not a member; while the store is unreachable, the address last seen for it.
   */
  instancePeer(instanceId: string): Promise<string | undefined>;
  /** Instances alive now, by id. */
  members(): Promise<string[]>;
  /** True while the last command reached the store. */
  readonly reachable: boolean;
  /** Called with `true` when the store is reached again after a failure, `false` when it fails. */
  onReachability(listener: (reachable: boolean) => void): void;
  close(): Promise<void>;
}

/**
 * The route to `target` (not connected here), undefined when no live instance holds it;
 * throws `CLUSTER_UNAVAILABLE` when the store cannot say (unreachable, or the command failed).
 */
export async function routeOrUnavailable(store: ClusterStore, target: string): Promise<TargetRoute | undefined> {
  const unavailable = (): RelayError =>
    new RelayError(
      'CLUSTER_UNAVAILABLE',
      `target "${target}" is not connected to this relay instance, and the cluster store that says where it is cannot be reached; try again shortly`,
    );
  if (!store.reachable) throw unavailable();
  return store.route(target).catch(() => {
    throw unavailable();
  });
}
