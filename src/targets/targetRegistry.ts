import { RelayError } from '../common/relayError.js';
import type { RegisterMessage, TargetInfo } from '../protocol/controlMessages.js';

/** What the registry needs of a registered agent: a way to close it when replaced. */
export interface RegisteredAgent {
  close(): void;
}

/** One connected target. */
export interface TargetEntry<A extends RegisteredAgent = RegisteredAgent> {
  readonly name: string;
  readonly agentId: string;
  readonly registration: RegisterMessage;
  readonly transport: 'wss' | 'tcps';
  readonly connectedAt: Date;
  readonly agent: A;
  /** Active client sessions (see {@link TargetRegistry.trackSession}). */
  readonly sessions: number;
}

type MutableEntry<A extends RegisteredAgent> = { -readonly [K in keyof TargetEntry<A>]: TargetEntry<A>[K] };

/**
 * The connected targets by name (docs/protocol.md §5). A registration with the
 * `agentId` of a present one replaces it (the stale agent is closed); the same name
 * from another `agentId` is refused with `TARGET_NAME_IN_USE`.
 */
export class TargetRegistry<A extends RegisteredAgent = RegisteredAgent> {
  private readonly byName = new Map<string, MutableEntry<A>>();

  /** Number of connected targets. */
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
    if (holder && holder.agentId !== registration.agentId && holder.agent !== agent) {
      throw new RelayError('TARGET_NAME_IN_USE', `target "${name}" is registered by another agent`);
    }
    const replaced = [...this.byName.values()].filter((entry) => entry.agentId === registration.agentId || entry.agent === agent);
    for (const entry of replaced) this.byName.delete(entry.name);
    this.byName.set(name, {
      name,
      agentId: registration.agentId,
      registration,
      transport,
      connectedAt: new Date(),
      agent,
      sessions: 0,
    });
    for (const entry of replaced) if (entry.agent !== agent) entry.agent.close();
    return replaced;
  }

  /** Removes `agent`'s registration if it is still the current one; true when removed. */
  remove(agent: A): boolean {
    for (const entry of this.byName.values()) {
      if (entry.agent === agent) {
        this.byName.delete(entry.name);
        return true;
      }
    }
    return false;
  }

  /** The target named `name`, if connected. */
  lookup(name: string): TargetEntry<A> | undefined {
    return this.byName.get(name);
  }

  /** Every connected agent. */
  agents(): A[] {
    return [...this.byName.values()].map((entry) => entry.agent);
  }

  /** Counts one session on `entry` until the returned release function is called. */
  trackSession(entry: TargetEntry<A>): () => void {
    const mutable = entry as MutableEntry<A>;
    mutable.sessions += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      mutable.sessions -= 1;
    };
  }

  /** The target list of `GET /v1/targets` (docs/protocol.md §7), sorted by name. */
  list(): TargetInfo[] {
    return [...this.byName.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((entry) => ({
        name: entry.name,
        labels: { ...(entry.registration.target.labels ?? {}) },
        host: entry.registration.process.host,
        pid: entry.registration.process.pid,
        python: entry.registration.process.python,
        debugpy: entry.registration.process.debugpy,
        agent: entry.registration.process.agent,
        transport: entry.transport,
        connectedAt: entry.connectedAt.toISOString(),
        sessions: entry.sessions,
      }));
  }
}
