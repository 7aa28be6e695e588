import { RelayError } from '../common/relayError.js';
import type { Transport } from '../transport/transport.js';
import { newSessionId } from './sessionId.js';

/** A session the relay asked an agent to open; `transport` settles with its data connection. */
export interface PendingOpen {
  readonly sessionId: string;
  /** Resolves with the agent's data connection; rejects with `AGENT_OPEN_TIMEOUT`, `AGENT_OPEN_FAILED` or `AGENT_GONE`. */
  readonly transport: Promise<Transport>;
  /** Gives up on the session (the client left); a late data connection is closed. */
  cancel(): void;
}

interface Entry {
  resolve(transport: Transport): void;
  reject(error: RelayError): void;
  timer: NodeJS.Timeout;
  claimed: boolean;
}

/** Told of each id as it is issued and as it ends (the agent hub's index of ids to their connection). */
export interface SessionIdWatcher {
  issued(sessionId: string): void;
  ended(sessionId: string): void;
}

const unwatched: SessionIdWatcher = { issued: () => undefined, ended: () => undefined };

/**
 * The one-time session ids issued on one control connection and not yet settled
 * (docs/protocol.md §5): each is valid once, until it is claimed by a data connection,
 * fails, or times out after `openTimeoutMs`.
 */
export class PendingOpens {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly openTimeoutMs: number,
    private readonly maxPending: number,
    private readonly watcher: SessionIdWatcher = unwatched,
    /** The instance id session ids name, with several relay instances (see `newSessionId`). */
    private readonly issuer?: string,
  ) {}

  /** Number of ids issued and not settled. */
  get size(): number {
    return this.entries.size;
  }

  /** Issues a fresh id; throws `AGENT_OPEN_FAILED` past `maxPending`. */
  issue(): PendingOpen {
    if (this.entries.size >= this.maxPending) {
      throw new RelayError('AGENT_OPEN_FAILED', `too many sessions being opened at once (limits.maxPendingOpensPerAgent = ${this.maxPending})`);
    }
    const sessionId = newSessionId(this.issuer);
    let entry!: Entry;
    const transport = new Promise<Transport>((resolve, reject) => {
      const timer = setTimeout(
        () => this.settle(sessionId, new RelayError('AGENT_OPEN_TIMEOUT', `the agent did not open the session within ${this.openTimeoutMs} ms`)),
        this.openTimeoutMs,
      );
      entry = { resolve, reject, timer, claimed: false };
    });
    transport.catch(() => undefined); // the caller may cancel without awaiting
    this.entries.set(sessionId, entry);
    this.watcher.issued(sessionId);
    return { sessionId, transport, cancel: () => this.settle(sessionId, new RelayError('AGENT_GONE', 'session cancelled')) };
  }

  /**
   * Claims `sessionId` for a data connection: returns the function that hands the
   * connection over. Throws `UNKNOWN_SESSION` if the id is not pending or already claimed.
   */
  claim(sessionId: string): (transport: Transport) => void {
    const entry = this.entries.get(sessionId);
    if (!entry || entry.claimed) throw new RelayError('UNKNOWN_SESSION', 'unknown, used or expired session id');
    entry.claimed = true;
    return (transport) => {
      if (this.entries.get(sessionId) !== entry) {
        transport.destroy(); // timed out or cancelled meanwhile
        return;
      }
      this.entries.delete(sessionId);
      this.watcher.ended(sessionId);
      clearTimeout(entry.timer);
      entry.resolve(transport);
    };
  }

  /** True when `sessionId` is pending and unclaimed. */
  has(sessionId: string): boolean {
    return this.entries.get(sessionId)?.claimed === false;
  }

  /** Fails one pending id (e.g. `openFailed` from the agent). */
  settle(sessionId: string, error: RelayError): void {
    const entry = this.entries.get(sessionId);
    if (!entry) return;
    this.entries.delete(sessionId);
    this.watcher.ended(sessionId);
    clearTimeout(entry.timer);
    entry.reject(error);
  }

  /** Fails every pending id. */
  settleAll(error: RelayError): void {
    for (const sessionId of [...this.entries.keys()]) this.settle(sessionId, error);
  }
}
