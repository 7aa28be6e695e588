import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { WebSocketControlChannel } from '../agents/webSocketControlChannel.js';
import { credentialFromAuthorization, pathWithoutQuery } from '../auth/credentialParser.js';
import { requireRole } from '../auth/grants.js';
import type { BlockList } from 'node:net';
import type { Logger } from '../log/logger.js';
import type { SocketSet } from '../net/serverSockets.js';
import { WebSocketTransport } from '../transport/webSocketTransport.js';
import { clientOrigin, originFields, refuseCleartextOrigin } from './forwardedClient.js';
import { asRelayError, refuseUpgrade } from './httpResponses.js';
import { agentDataDelivery, authenticate, type ListenerContext } from './listenerContext.js';
import { servesPtvsd } from './ptvsdEndpoint.js';
import { currentPtvsdTarget, noPtvsdTarget } from './ptvsdTarget.js';
import { parseUpgradeRoute, prefetchRequested, requireWebSocketHandshake, takeoverRequested } from './upgradeRoutes.js';

/** What the upgrade handler of the `wss` listener works with. */
export interface WssUpgradeParts {
  readonly context: ListenerContext;
  readonly log: Logger;
  readonly sockets: SocketSet;
  readonly trustedProxies: BlockList;
  /** Control connections of agents (frame bound `limits.maxControlMessageBytes`). */
  readonly controlServer: WebSocketServer;
  /** Data connections of clients and agents (frame bound `dap.maxMessageBytes` and a header). */
  readonly dataServer: WebSocketServer;
  /** Starts the heartbeat of a data connection and returns it. */
  readonly heartbeating: (transport: WebSocketTransport) => WebSocketTransport;
}

/**
 * The `upgrade` handler of the `wss` listener (docs/protocol.md §3): routes the path,
 * authenticates before `handleUpgrade` (a refusal is an HTTP response with a JSON body,
 * then the socket is closed), and hands the WebSocket to the agent hub (control and
 * agent data) or the session broker (an attach, `/ptvsd` included).
 */
/**
 * A socket's `error` listener that ends it: a function of its own, not a closure of the
 * upgrade handler, which would keep the upgrade's request alive as long as the socket.
 */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

export function wssUpgradeHandler(parts: WssUpgradeParts): (request: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void> {
  const { context, log, sockets, trustedProxies, controlServer, dataServer, heartbeating } = parts;
  const { config } = context;
  const completeUpgrade = (wss: WebSocketServer, request: IncomingMessage, socket: Duplex, head: Buffer, then: (ws: WebSocket) => void): void => {
    wss.handleUpgrade(request, socket, head, (ws) => {
      try {
        then(ws);
      } catch (error) {
        // Runs inside ws's handler: a failure ends this connection, never the process.
        log.error({ err: error, remote: request.socket.remoteAddress }, 'upgrade failed after the handshake');
        ws.terminate();
      }
    });
  };

  return async (request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    sockets.add(socket);
    socket.on('error', destroyOnError);
    const origin = clientOrigin(request.socket, request.headers, trustedProxies);
    const remote = origin.display;
    try {
      const path = pathWithoutQuery(request.url);
      // /ptvsd: an attach to the default target (chosen now, so that its attach secret can be checked).
      const ptvsd = servesPtvsd(config, path) ? currentPtvsdTarget(config, context.registry) : undefined;
      const route = ptvsd ? ({ kind: 'attach', target: ptvsd.target ?? '' } as const) : parseUpgradeRoute(path);
      requireWebSocketHandshake(request); // before anything is opened for it
      refuseCleartextOrigin(origin);
      const takeover = route.kind === 'attach' && takeoverRequested(request.headers);
      const principal = await authenticate(
        context,
        () => credentialFromAuthorization(request.headers.authorization),
        { via: 'wss', ...originFields(origin), endpoint: ptvsd ? 'ptvsd' : route.kind, socket: request.socket },
        route.kind === 'attach' && route.target !== '' ? route.target : undefined,
      );
      if (socket.destroyed) return;
      if (ptvsd && ptvsd.target === undefined) throw noPtvsdTarget(ptvsd.problem);
      if (route.kind === 'agent') {
        requireRole(principal, 'agent');
        completeUpgrade(controlServer, request, socket, head, (ws) => {
          context.hub.accept(new WebSocketControlChannel(ws, remote, context.jsonDepth?.control), principal);
        });
      } else if (route.kind === 'agentData') {
        const { deliver, abandon } = await agentDataDelivery(context, route.sessionId, principal, undefined);
        if (socket.destroyed) return abandon();
        // If ws refuses the handshake itself (bad headers), the socket closes undelivered.
        let delivered = false;
        socket.once('close', () => {
          if (!delivered) abandon();
        });
        completeUpgrade(dataServer, request, socket, head, (ws) => {
          delivered = true;
          deliver(heartbeating(new WebSocketTransport(ws, remote)));
        });
      } else {
        const left = new AbortController();
        const onClose = (): void => left.abort();
        socket.once('close', onClose);
        const prepared = await context.sessions.prepare({
          principal,
          target: route.target,
          via: 'wss',
          clientAddress: remote,
          signal: left.signal,
          takeover,
          ...(prefetchRequested(request.headers) ? { prefetch: true } : {}),
        });
        socket.off('close', onClose);
        if (socket.destroyed) return prepared.abort();
        // If ws refuses the handshake itself (bad headers), the socket closes unstarted.
        socket.once('close', () => prepared.abort());
        completeUpgrade(dataServer, request, socket, head, (ws) => prepared.start(heartbeating(new WebSocketTransport(ws, remote))));
      }
    } catch (error) {
      const relayError = asRelayError(error);
      if (relayError.code === 'INTERNAL') log.error({ err: error, remote }, 'upgrade failed');
      refuseUpgrade(socket, relayError);
    }
  };
}
