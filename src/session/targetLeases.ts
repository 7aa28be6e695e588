import type { DebugProtocol } from '@vscode/debugprotocol';
import { RelayError } from '../common/relayError.js';

/** Bound on an eviction when the caller names none: the `sessions.takeoverTimeoutMs` default. */
export const defaultEvictTimeoutMs = 10_000;

/** Who debugs a target. */
export interface LeaseHolder {
  readonly principal: string;
  readonly since: Date;
}

/** One session's share of a target lease. */
export interface Lease {
  /** `primary`: the holder's debug session; `secondary`: a further session of the holder, for subprocesses only. */
  readonly role: 'primary' | 'secondary';
  readonly holder: LeaseHolder;
  /** The holder whose sessions this one took over, if it did. */
  readonly tookOverFrom?: LeaseHolder;
  /** Records a subprocess the adapter announced in this session (its child may attach). */
  noteSubprocess(subProcessId: number): void;
  /** Why this session may not send `request` (a secondary session's attach), or undefined. */
  refusal(request: DebugProtocol.Request): string | undefined;
  /** Sets how this session is ended when an admin takes the target over. */
  onEvict(evict: () => Promise<void>): void;
  /**
   * The session's client is gone and the session is only being detached: it no longer
   * counts as the holder's debug session, so the holder may attach again at once.
   */
  clientGone(): void;
  /** Gives the share back (the session ended, or was never started). */
  release(): void;
}

/** Options of {@link TargetLeases.acquire}. */
export interface AcquireOptions {
  /** The principal asks to take the target over (only with the `admin` grant). */
  readonly takeover?: boolean;
  readonly admin?: boolean;
  /** Bound on waiting for the previous holder's sessions to detach. */
  readonly evictTimeoutMs?: number;
}

interface Holding {
  readonly holder: LeaseHolder;
  readonly shares: Set<Share>;
  readonly subprocesses: Set<number>;
}

interface Share extends Lease {
  role: 'primary' | 'secondary';
  evict?: () => Promise<void>;
  detaching?: boolean;
}

/** The refusal of a session of another principal than the holder's. */
function busy(target: string, holding: Holding, options: AcquireOptions): RelayError {
  const since = holding.holder.since.toISOString();
  const hint = options.takeover ? ' (taking over needs the admin grant)' : '';
  return new RelayError('TARGET_BUSY', `target "${target}" is being debugged by ${holding.holder.principal} since ${since}${hint}`);
}

/**
 * One debugger per target: the first session of a target makes its
 * principal the holder; a session of another principal is refused with `TARGET_BUSY`,
 * naming the holder and since when. Further sessions of the holder are allowed while
 * it has a primary session, for the debugger's subprocess connections: their `attach`
 * must carry a `subProcessId` the adapter announced in one of the holder's sessions
 * (`startDebugging`/`debugpyAttach`), anything else is refused. An admin may take a
 * target over: the holder's sessions are ended (each detaches cleanly) first.
 * With `exclusive: false` every session is a primary one and nothing is checked.
 */
export class TargetLeases {
  private readonly holdings = new Map<string, Holding>();

  constructor(private readonly exclusive: boolean) {}

  /** The holder of `target`, if any. */
  holderOf(target: string): LeaseHolder | undefined {
    return this.holdings.get(target)?.holder;
  }

  /** Throws the `TARGET_BUSY` that {@link acquire} would throw now, taking nothing (docs/protocol.md §3, attach check). */
  check(target: string, principal: string, options: AcquireOptions = {}): void {
    const holding = this.holdings.get(target);
    if (holding && this.exclusive && holding.holder.principal !== principal && !(options.takeover && options.admin)) throw busy(target, holding, options);
  }

  /** Takes a share of `target` for `principal`; throws `TARGET_BUSY`. */
  async acquire(target: string, principal: string, options: AcquireOptions = {}): Promise<Lease> {
    let holding = this.holdings.get(target);
    let tookOverFrom: LeaseHolder | undefined;
    if (holding && this.exclusive && holding.holder.principal !== principal) {
      if (!(options.takeover && options.admin)) throw busy(target, holding, options);
      tookOverFrom = holding.holder;
      await this.evict(target, holding, options.evictTimeoutMs ?? defaultEvictTimeoutMs);
      holding = this.holdings.get(target);
      if (holding) throw new RelayError('TARGET_BUSY', `target "${target}" was taken by ${holding.holder.principal} meanwhile`);
    }
    if (!holding) {
      holding = { holder: { principal, since: new Date() }, shares: new Set(), subprocesses: new Set() };
      this.holdings.set(target, holding);
    }
    const current = holding;
    const livePrimary = (except?: Share): boolean => [...current.shares].some((other) => other !== except && other.role === 'primary' && !other.detaching);
    const share: Share = {
      role: !this.exclusive || !livePrimary() ? 'primary' : 'secondary',
      holder: current.holder,
      ...(tookOverFrom ? { tookOverFrom } : {}),
      noteSubprocess: (id) => void current.subprocesses.add(id),
      refusal: (request) => {
        if (share.role === 'primary') return undefined;
        // The holder's debug session may have been lost since this one began: then
        // this one becomes the debug session rather than being refused.
        if (request.command === 'attach' && !livePrimary(share)) {
          share.role = 'primary';
          return undefined;
        }
        return this.secondaryRefusal(target, current, request);
      },
      onEvict: (evict) => void (share.evict = evict),
      clientGone: () => void (share.detaching = true),
      release: () => {
        current.shares.delete(share);
        if (current.shares.size === 0 && this.holdings.get(target) === current) this.holdings.delete(target);
      },
    };
    current.shares.add(share);
    return share;
  }

  private secondaryRefusal(target: string, holding: Holding, request: DebugProtocol.Request): string | undefined {
    if (request.command !== 'attach') return undefined;
    const id = (request.arguments as { subProcessId?: unknown } | undefined)?.subProcessId;
    if (typeof id === 'number' && holding.subprocesses.has(id)) return undefined;
    return (
      `target "${target}" is being debugged by ${holding.holder.principal} since ${holding.holder.since.toISOString()}; ` +
      'a further session may only attach to a subprocess its debug session announced (sessions.exclusive)'
    );
  }

  private async evict(target: string, holding: Holding, timeoutMs: number): Promise<void> {
    const endings = [...holding.shares].map((share) => share.evict?.() ?? Promise.resolve());
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.allSettled(endings), timeout]);
    clearTimeout(timer);
    if (this.holdings.get(target) === holding) this.holdings.delete(target);
  }
}
