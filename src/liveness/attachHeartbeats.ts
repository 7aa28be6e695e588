import type { DapInterceptors, DapPipe } from '../dap/dapPipe.js';
import type { Transport } from '../transport/transport.js';
import { heartbeatEvent, heartbeatMessage } from './heartbeat.js';
import { LivenessTransport } from './livenessTransport.js';

/** Adds to `interceptors` the drop of the relay's heartbeat answers: they are not for the DAP client. */
export function withHeartbeatAnswersDropped(interceptors: DapInterceptors): DapInterceptors {
  const toClient = new Map(interceptors.toClient ?? []);
  toClient.set(heartbeatEvent, (message) => (message.type === 'event' ? null : undefined));
  return { ...interceptors, toClient };
}

/**
 * Sends the attach side's heartbeats toward the relay through `pipe` when the session
 * connection `relay` promised them (tcps with a relay that answers heartbeats; over
 * wss, WebSocket pings do this). Returns what stops them; call it when the pipe closes.
 */
export function startHeartbeats(pipe: Pick<DapPipe, 'sendToAdapter'>, relay: Transport): () => void {
  if (!(relay instanceof LivenessTransport) || relay.heartbeatMs === undefined) return () => {};
  const heartbeat = setInterval(() => pipe.sendToAdapter(heartbeatMessage()), relay.heartbeatMs);
  heartbeat.unref();
  return () => clearInterval(heartbeat);
}
