import { relaySecretPrincipalId } from '../auth/secretAuthenticator.js';
import type { LifecycleState } from '../lifecycle/lifecycleLimits.js';
import type { TargetEntry, TargetSessionCounts } from '../targets/targetRegistry.js';
import type { ResumeOutcome, SessionStatus } from './sessionStatus.js';

/**
 * Where a client session is: `admitted` (counted against the limits, its guards being
 * checked), `opening` (the target's agent or dialer was asked for the DAP connection),
 * `running` (forwarding DAP). A session leaves the ledger when it is released.
 */
export type SessionState = 'admitted' | 'opening' | 'running';

/** How the ledger reaches a running session. */
export interface RunningSession {
  /** Ends the session (an attached debugger detaches first). */
  close(): void;
  /** Settles once the session has ended. */
  readonly closed: Promise<unknown>;
  /** Sends the session's client an `output` event of the relay's own. */
  notify(text: string): void;
  /** Policy, start and pause of the session (the web console's view). */
  status(): SessionStatus;
  /** Resumes a stopped debuggee on behalf of `by`; settles with debugpy's answer. */
  resume(by: string): Promise<ResumeOutcome>;
}

/** One session as the ledger records it. */
export interface SessionRecord {
  readonly id: string;
  readonly principal: string;
  /** The target's name, as requested. */
  readonly target: string;
  /** The registry entry the session opens with (a replaced target has a new entry). */
  readonly entry: TargetEntry;
  readonly state: SessionState;
  /** Once the session runs: its policy, start and pause. */
  readonly status?: SessionStatus;
}

/** A session admitted to the ledger, held by whoever brokers it. */
export interface AdmittedSession extends SessionRecord {
  /** The target was asked for the DAP connection. */
  opening(): void;
  /** The session forwards DAP (ignored once released). */
  start(running: RunningSession): void;
  /** Takes the session out of the ledger; only the first call counts. */
  release(): void;
}

/** What {@link SessionLedger.admit} needs to know of a session. */
export interface SessionAdmission {
  readonly id: string;
  readonly principal: string;
  readonly target: string;
  readonly entry: TargetEntry;
}

interface Line {
  readonly record: SessionAdmission;
  state: SessionState;
  running?: RunningSession;
}

/**
 * The relay's one table of client sessions (subprocess sessions included), from
 * admission (before the target is asked to open) until released exactly once. Every
 * session count is read from it: the `limits.maxSessionsPerPrincipal` and
 * `limits.maxSessionsPerTarget` bounds (every state), and the sessions forwarding DAP
 * (`running`): per registry entry for target listings and the retirement of configured
 * targets (the registry reads them through {@link TargetSessionCounts}), in all for
 * the `dbgrelay_sessions_active` gauge, draining and shutdown.
 */
export class SessionLedger implements TargetSessionCounts {
  private readonly table = new Set<Line>();
  // Tallies of the table, kept in step by admit/start/release so that reading a count is cheap.
  private readonly perPrincipal = new Tally<string>();
  private readonly perTarget = new Tally<string>();
  private readonly runningPerEntry = new Tally<TargetEntry>();
  private runningTotal = 0;

  /**
   * Records a session as `admitted`; throws `LIMIT_REACHED` (nothing recorded) when a
   * bound of `limits` is reached.
   */
  admit(session: SessionAdmission, limits?: LifecycleState): AdmittedSession {
    if (limits) {
      // The relay secret is everyone's credential in the simple setup: the per-target bound and the targets bound it.
      if (session.principal !== relaySecretPrincipalId) {
        limits.requireBelow('maxSessionsPerPrincipal', this.perPrincipal.get(session.principal), `sessions of ${session.principal}`);
      }
      limits.requireBelow('maxSessionsPerTarget', this.perTarget.get(session.target), `sessions with target "${session.target}"`);
    }
    const line: Line = { record: { id: session.id, principal: session.principal, target: session.target, entry: session.entry }, state: 'admitted' };
    this.table.add(line);
    this.perPrincipal.add(session.principal, 1);
    this.perTarget.add(session.target, 1);
    return {
      ...line.record,
      get state() {
        return line.state;
      },
      opening: () => {
        if (this.table.has(line) && line.state === 'admitted') line.state = 'opening';
      },
      start: (running) => {
        if (!this.table.has(line) || line.state === 'running') return;
        line.state = 'running';
        line.running = running;
        this.runningPerEntry.add(line.record.entry, 1);
        this.runningTotal += 1;
      },
      release: () => this.release(line),
    };
  }

  /** Sessions of `principal` in the ledger, in any state. */
  sessionsOf(principal: string): number {
    return this.perPrincipal.get(principal);
  }

  /** Sessions with the target named `target` in the ledger, in any state. */
  sessionsWith(target: string): number {
    return this.perTarget.get(target);
  }

  /** Sessions forwarding DAP with the registry entry `entry`. */
  runningWith(entry: TargetEntry): number {
    return this.runningPerEntry.get(entry);
  }

  /** Sessions forwarding DAP. */
  get running(): number {
    return this.runningTotal;
  }

  /** The sessions forwarding DAP, to reach them. */
  runningSessions(): RunningSession[] {
    return [...this.table].flatMap((line) => (line.running ? [line.running] : []));
  }

  /** A snapshot of every session in the ledger, in order of admission. */
  records(): SessionRecord[] {
    return [...this.table].map((line) => ({ ...line.record, state: line.state, ...(line.running ? { status: line.running.status() } : {}) }));
  }

  /** The running session with id `id`, undefined when none runs. */
  runningSession(id: string): RunningSession | undefined {
    for (const line of this.table) if (line.record.id === id) return line.running;
    return undefined;
  }

  private release(line: Line): void {
    if (!this.table.delete(line)) return;
    this.perPrincipal.add(line.record.principal, -1);
    this.perTarget.add(line.record.target, -1);
    if (line.state === 'running') {
      this.runningPerEntry.add(line.record.entry, -1);
      this.runningTotal -= 1;
    }
  }
}

/** Counts by key; a key whose count drops to zero is forgotten. */
class Tally<K> {
  private readonly counts = new Map<K, number>();

  get(key: K): number {
    return this.counts.get(key) ?? 0;
  }

  add(key: K, by: number): void {
    const next = this.get(key) + by;
    if (next <= 0) this.counts.delete(key);
    else this.counts.set(key, next);
  }
}
