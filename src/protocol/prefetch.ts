/**
 * Prefetch on stopped (docs/protocol.md §6, revision 1.13): the words relay, agent and
 * client share. A client that can use answers sent ahead says so (`"prefetch": true` in
 * the tcps hello, `X-Dbgrelay-Prefetch: 1` on the wss upgrade); the relay then passes
 * its `dap.prefetch` settings to the agent in `open`, and the agent's bridge sends a
 * {@link prefetchEventName} event before each `stopped` event.
 */

/**
 * Requests that only read the debuggee's state. Any other request may change it, and
 * makes what was sent ahead stale. The agent keeps the same list
 * (`agent-py/dbgrelay/bridge/prefetch.py`); both are checked against
 * `test/fixtures/readOnlyRequests.json`.
 */
export const readOnlyRequests: ReadonlySet<string> = new Set(['threads', 'stackTrace', 'scopes', 'variables', 'source', 'modules', 'exceptionInfo']);

/** The event by which the bridge sends answers ahead of a `stopped` event. */
export const prefetchEventName = 'dbgrelay.prefetch';

/** Request header by which a wss client asks for answers sent ahead. */
export const prefetchHeader = 'x-dbgrelay-prefetch';

/** What the relay allows the agent to send ahead per stop (`open.prefetch`). */
export interface PrefetchLimits {
  /** Bytes of answers (their bodies) per stop (`dap.prefetch.maxBytesPerStop`). */
  readonly maxBytes: number;
  /** How long the `stopped` event may wait for the first view's answers (`dap.prefetch.maxHoldMs`). */
  readonly maxHoldMs: number;
}

/** Upper bounds of {@link PrefetchLimits} on the wire (the agent refuses more). */
export const maxPrefetchBytes = 16 * 1024 * 1024;
export const maxPrefetchHoldMs = 10_000;

/** One answer sent ahead: the request it answers and the adapter's response body, as it wrote it. */
export interface PrefetchedAnswer {
  readonly command: string;
  readonly arguments: Record<string, unknown>;
  readonly response: string;
}

/** Body of a {@link prefetchEventName} event. */
export interface PrefetchEventBody {
  /** How many `stopped` events the bridge had forwarded in this session, the one these answers are for included. */
  readonly stop: number;
  /** The highest `seq` of a client request the adapter had received when these answers were taken. */
  readonly afterSeq: number;
  readonly answers: readonly PrefetchedAnswer[];
  /** A second event for the same stop follows (the children of the first view's values). */
  readonly more?: boolean;
}
