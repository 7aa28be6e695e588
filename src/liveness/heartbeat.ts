/**
 * Session liveness: how each end of a session connection finds a peer that vanished
 * without closing (docs/protocol.md §6, revisions 1.4 and 1.7).
 *
 * - **wss**: WebSocket pings and pongs, below DAP (`webSocketHeartbeat.ts`). Only the
 *   transport sees them.
 * - **tcps**: a data connection carries raw DAP framing from the first byte after the
 *   hello reply, so there is no frame below DAP to ping with. The heartbeat is the DAP
 *   event built here (`dbgrelay.heartbeat`, a test vector of protocol v1), and it stays
 *   one: a v1 peer, client or agent, sends and expects exactly that event, and any
 *   other byte on the connection would break its DAP parser. A peer that announced
 *   heartbeats in its hello (`heartbeatMs`) gets a deadline ({@link heartbeatTimeoutFor},
 *   `livenessTransport.ts`); one that did not gets none and never sees the event.
 *
 * Three layers see the tcps heartbeat, each through this folder only: the transport
 * (`LivenessTransport` counts any byte, heartbeats included, as a sign of life and
 * uses a `SilenceWatch`), the DAP pipe (the relay answers the event and forwards it to
 * neither side, `heartbeatEcho.ts`; the attach side sends it and drops the answers,
 * `attachHeartbeats.ts`) and the session (a heartbeat is no use of the session,
 * {@link isHeartbeatName}). The miss counter lives in `src/metrics/heartbeatMetrics.ts`,
 * the `heartbeat` settings in `src/config/heartbeatConfigSchema.ts`. The agent control
 * connection's `ping`/`pong` (§5) is a control message, not part of this.
 *
 * @module
 */
import type { DapMessage } from '../dap/dapMessage.js';

/**
 * Name of the DAP event `dbgrelay attach` and the relay exchange on a tcps session
 * to prove the other side is alive (docs/protocol.md §6, revision 1.4). It never
 * reaches debugpy or the DAP client: the relay answers and drops it, the attach side
 * drops the answer.
 */
export const heartbeatEvent = 'dbgrelay.heartbeat';

/** The heartbeat message itself (seq 0: it belongs to neither peer's sequence). */
export function heartbeatMessage(): DapMessage {
  return { seq: 0, type: 'event', event: heartbeatEvent } as DapMessage;
}

/** Whether a DAP message's command or event name is the heartbeat's (a keep-alive, not use of the session). */
export function isHeartbeatName(name: string | undefined): boolean {
  return name === heartbeatEvent;
}

/**
 * The silence after which a tcps session connection whose peer announced heartbeats
 * every `heartbeatMs` is closed (docs/protocol.md §6): `heartbeat.timeoutMs`, or three
 * of the peer's intervals when that is longer.
 */
export function heartbeatTimeoutFor(configuredTimeoutMs: number, heartbeatMs: number): number {
  return Math.max(configuredTimeoutMs, 3 * heartbeatMs);
}
