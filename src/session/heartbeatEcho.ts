import type { InterceptorChain } from '../dap/interceptorChain.js';
import { heartbeatEvent, heartbeatMessage } from '../dap/heartbeatMessages.js';

/**
 * The relay's side of the tcps session heartbeat: a `dbgrelay.heartbeat` event from
 * the client is answered with one and never forwarded to the adapter. Harmless for
 * clients that never send one; over wss the WebSocket ping does the same job.
 */
export function echoHeartbeats(chain: InterceptorChain): void {
  chain.add('toAdapter', heartbeatEvent, (message, context) => {
    if (message.type !== 'event') return undefined;
    context.sendToClient(heartbeatMessage());
    return null;
  });
}
