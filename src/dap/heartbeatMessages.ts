import type { DapMessage } from './dapMessage.js';

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
