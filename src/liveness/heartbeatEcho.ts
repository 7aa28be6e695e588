import type { InterceptorChain } from '../dap/interceptorChain.js';
import { heartbeatEvent, heartbeatMessage } from './heartbeat.js';

/**
 * The relay's side of the tcps session heartbeats (docs/protocol.md §6): a
 * `dbgrelay.heartbeat` event from the client (revision 1.4) is answered toward the
 * client and never forwarded to the adapter; one from the agent's bridge on its data
 * connection (revision 1.7) is answered toward the agent and never forwarded to the
 * client. Harmless for peers that never send one (debugpy does not); over wss the
 * WebSocket ping does the same job.
 */
export function echoHeartbeats(chain: InterceptorChain): void {
  chain.add('toAdapter', heartbeatEvent, (message, context) => {
    if (message.type !== 'event') return undefined;
    context.sendToClient(heartbeatMessage());
    return null;
  });
  chain.add('toClient', heartbeatEvent, (message, context) => {
    if (message.type !== 'event') return undefined;
    context.sendToAdapter(heartbeatMessage());
    return null;
  });
}
