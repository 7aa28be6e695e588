import type { AttachSecret } from '../auth/attachSecret.js';
import type { StatusMessage } from '../protocol/controlMessages.js';
import type { PrefetchLimits } from '../protocol/prefetch.js';
import type { Transport } from '../transport/transport.js';

/** A DAP connection to a target's debug adapter that is being opened. */
export interface OpeningConnection {
  /** Resolves with the connection to the adapter; rejects with a `RelayError`. */
  readonly transport: Promise<Transport>;
  /** Gives up (the client left); a connection that arrives late is closed. */
  cancel(): void;
}

/** Whether the relay could reach a target the last time it tried. */
export interface EndpointStatus {
  /** `undefined` until the first attempt. */
  readonly reachable: boolean | undefined;
  /** Why the last attempt failed (never a credential). */
  readonly detail?: string;
}

/** Options of {@link TargetEndpoint.open}. */
export interface OpenOptions {
  readonly prefetch?: PrefetchLimits;
}

/**
 * What a session needs of a target: a way to open a DAP connection to its debug
 * adapter. An agent's control connection is one (it asks the agent to dial back); a
 * target from the relay's config (`targets.*`: `tcp://` sidecar, `ssh://`, a direct
 * `tcps://` endpoint) and a target an SSH client forwards to the relay are others.
 */
export interface TargetEndpoint {
  /**
   * Opens one connection to the adapter (a session, or a subprocess session). With
   * `prefetch`, an agent's bridge sends answers ahead on each stop within those limits
   * (docs/protocol.md §6); endpoints without a bridge ignore it.
   */
  open(options?: OpenOptions): OpeningConnection;
  /** Releases what the endpoint holds (pooled connections, the agent's control connection). */
  close(): void;
  /** Digest of the target's own attach secret, when it has one. */
  readonly attachSecret?: AttachSecret | undefined;
  /** Reachability for `dbgrelay targets` (endpoints the relay dials). */
  status?(): EndpointStatus;
  /** Agents: whether the debugger inside the debuggee works, as it last said (revision 1.8). */
  readonly debuggerStatus?: StatusMessage | undefined;
}
