import { RelayError } from '../common/relayError.js';
import type { RegisterMessage, StatusMessage, TargetInfo, TargetKind } from '../protocol/controlMessages.js';
import type { TargetEndpoint } from './targetEndpoint.js';

/** What the registry needs of a registered agent: it opens sessions, and is closed when replaced. */
export type RegisteredAgent = TargetEndpoint;

/** A target that is not an agent registration: from the config, or forwarded by an SSH client. */
export interface ProvidedTarget {
  readonly name: string;
  readonly kind: Exclude<TargetKind, 'agent'>;
  /** Host the adapter runs on, as far as the relay knows it. */
  readonly host: string;
  /** Carrier between relay and adapter. */
  readonly transport: 'tcp' | 'tcps' | 'ssh';
  /** Where the relay dials, without credentials (e.g. `ssh://deploy@db-1:22 → 127.0.0.1:5678`). */
  readonly address: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** One target the relay can open sessions with. */
export interface TargetEntry<A extends RegisteredAgent = RegisteredAgent> {
  readonly name: string;
  readonly kind: TargetKind;
  /** Opens the DAP connections of this target's sessions. */
  readonly endpoint: TargetEndpoint;
  /** The agent, for agent targets. */
  readonly agent?: A;
  /** The agent's registration, for agent targets. */
  readonly registration?: RegisterMessage;
  /** What the relay knows of a provided target. */
  readonly provided?: ProvidedTarget;
  readonly agentId?: string;
  readonly transport: TargetInfo['transport'];
  readonly connectedAt: Date;
  /** Client sessions forwarding DAP with this entry now (read from the registry's {@link TargetSessionCounts}). */
  readonly sessions: number;
}

/**
 * Where the registry reads how many client sessions run with a target: the relay's
 * session ledger, which lives above the registry and is handed to it by whoever
 * composes both.
 */
export interface TargetSessionCounts {
  /** Client sessions forwarding DAP with `entry` now. */
  runningWith(entry: TargetEntry): number;
}

/** Told of every agent entry that comes and goes (the cluster's target directory publishes them). */
export interface RegistryObserver<A extends RegisteredAgent = RegisteredAgent> {
  added(entry: TargetEntry<A>): void;
  removed(entry: TargetEntry<A>): void;
}

/** The counts of a registry that no sessions are brokered with. */
const noSessions: TargetSessionCounts = { runningWith: () => 0 };

/**
 * The targets by name (docs/protocol.md §5, §7): agent registrations and provided
 * targets (config `targets.*`, SSH reverse forwards). A registration with the
 * `agentId` of a present one replaces it (the stale agent is closed); the same name
 * from another `agentId`, or a name a provided target holds, is refused with
 * `TARGET_NAME_IN_USE`.
 */
export class TargetRegistry<A extends RegisteredAgent = RegisteredAgent> {
  private readonly byName = new Map<string, TargetEntry<A>>();
  /** Agent entries by agent id and by agent, so that registering and removing never scan the fleet. */
  private readonly byAgentId = new Map<string, TargetEntry<A>>();
  private readonly byAgent = new Map<A, TargetEntry<A>>();
  private readonly observers: RegistryObserver<A>[] = [];

  /** `sessions` counts the sessions that `sessionCounts` reports for each entry (none without it). */
  constructor(private readonly sessionCounts: TargetSessionCounts = noSessions) {}

  /** Tells `observer` of every agent entry added or removed from now on. */
  observe(observer: RegistryObserver<A>): void {
    this.observers.push(observer);
  }

  /** Number of targets. */
  get size(): number {
    return this.byName.size;
  }

  /**
   * Registers `agent` for `registration.target.name`. Returns the replaced entries
   * (already removed and closed). Throws `TARGET_NAME_IN_USE`.
   */
  register(agent: A, registration: RegisterMessage, transport: 'wss' | 'tcps'): TargetEntry<A>[] {
    const name = registration.target.name;
    const holder = this.byName.get(name);
    if (holder?.provided) throw new RelayError('TARGET_NAME_IN_USE', `target "${name}" is a ${holder.kind} target of the relay`);
    if (holder && holder.agentId !== registration.agentId && holder.agent !== agent) {
      throw new RelayError('TARGET_NAME_IN_USE', `target "${name}" is registered by another agent`);
    }
    const replaced = [...new Set([this.byAgentId.get(registration.agentId), this.byAgent.get(agent)])].filter((entry) => entry !== undefined);
    for (const entry of replaced) this.forget(entry);
    const entry = this.entry({ name, kind: 'agent', endpoint: agent, agent, agentId: registration.agentId, registration, transport, connectedAt: new Date() });
    this.byName.set(name, entry);
    this.byAgentId.set(registration.agentId, entry);
    this.byAgent.set(agent, entry);
    for (const observer of this.observers) observer.added(entry);
    for (const old of replaced) if (old.agent !== agent) old.endpoint.close();
    return replaced;
  }

  /** Removes an agent entry from every index. */
  private forget(entry: TargetEntry<A>): void {
    if (this.byName.get(entry.name) === entry) for (const observer of this.observers) observer.removed(entry);
    this.byName.delete(entry.name);
    if (entry.agentId !== undefined && this.byAgentId.get(entry.agentId) === entry) this.byAgentId.delete(entry.agentId);
    if (entry.agent !== undefined && this.byAgent.get(entry.agent) === entry) this.byAgent.delete(entry.agent);
  }

  /**
   * Adds a provided target. With `replace`, a provided target of the same name is
   * replaced (closed); an agent's name is never taken over. Returns the function
   * that removes it again (only while it is still the current one). Throws
   * `TARGET_NAME_IN_USE`.
   */
  provide(target: ProvidedTarget, endpoint: TargetEndpoint, options: { replace?: boolean } = {}): () => boolean {
    const holder = this.byName.get(target.name);
    if (holder && (holder.agent !== undefined || !options.replace)) {
      throw new RelayError('TARGET_NAME_IN_USE', `target "${target.name}" is already ${holder.agent ? 'registered by an agent' : 'provided'}`);
    }
    const entry = this.entry({ name: target.name, kind: target.kind, endpoint, provided: target, transport: target.transport, connectedAt: new Date() });
    this.byName.set(target.name, entry);
    if (holder) holder.endpoint.close();
    return () => {
      if (this.byName.get(target.name) !== entry) return false;
      this.byName.delete(target.name);
      return true;
    };
  }

  /** Removes `agent`'s registration if it is still the current one; true when removed. */
  remove(agent: A): boolean {
    const entry = this.byAgent.get(agent);
    if (entry === undefined) return false;
    this.forget(entry);
    return true;
  }

  /** The registered agent whose agent id is `agentId`, if there is one. */
  agentWithId(agentId: string): A | undefined {
    return this.byAgentId.get(agentId)?.agent;
  }

  /** The target named `name`, if there is one. */
  lookup(name: string): TargetEntry<A> | undefined {
    return this.byName.get(name);
  }

  /** Every connected agent. */
  agents(): A[] {
    return [...this.byAgent.keys()];
  }

  /** Every provided target's endpoint. */
  providedEndpoints(): TargetEndpoint[] {
    return [...this.byName.values()].filter((entry) => entry.provided !== undefined).map((entry) => entry.endpoint);
  }

  /** A new entry whose `sessions` are read from the registry's session counts. */
  private entry(fields: Omit<TargetEntry<A>, 'sessions'>): TargetEntry<A> {
    const counts = this.sessionCounts;
    return {
      ...fields,
      get sessions(): number {
        return counts.runningWith(this);
      },
    };
  }

  /** The target list of `GET /v1/targets` (docs/protocol.md §7), sorted by name. */
  list(): TargetInfo[] {
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((entry) => describe(entry));
  }
}

/** The listing entry of one target (docs/protocol.md §7). */
export function describeTarget(entry: TargetEntry): TargetInfo {
  return describe(entry);
}

/** `debugger` and, when it says why, `detail` of an agent's listing entry (revision 1.8). */
function debuggerFields(status: StatusMessage | undefined): Pick<TargetInfo, 'debugger' | 'detail'> {
  if (status === undefined) return {};
  return { debugger: status.debugger, ...(status.detail !== undefined ? { detail: status.detail } : {}) };
}

function describe(entry: TargetEntry): TargetInfo {
  const common = { name: entry.name, transport: entry.transport, connectedAt: entry.connectedAt.toISOString(), sessions: entry.sessions };
  if (entry.registration) {
    const { process, target } = entry.registration;
    return {
      ...common,
      kind: 'agent',
      labels: { ...(target.labels ?? {}) },
      host: process.host,
      pid: process.pid,
      python: process.python,
      debugpy: process.debugpy,
      agent: process.agent,
      ...(process.cwd !== undefined ? { cwd: process.cwd } : {}),
      ...(process.root !== undefined ? { root: process.root } : {}),
      ...(process.killTimer !== undefined ? { killTimer: { ...process.killTimer } } : {}),
      ...debuggerFields(entry.agent?.debuggerStatus),
    };
  }
  const provided = entry.provided!;
  const status = entry.endpoint.status?.();
  return {
    ...common,
    kind: provided.kind,
    labels: { ...(provided.labels ?? {}) },
    host: provided.host,
    address: provided.address,
    ...(status?.reachable !== undefined ? { reachable: status.reachable } : {}),
    ...(status?.detail !== undefined ? { detail: status.detail } : {}),
  };
}
