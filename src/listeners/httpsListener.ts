import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WssListenerConfig } from '../config/configSchema.js';
import { trustedProxyList } from '../config/frontEndConfigSchema.js';
import { startWebSocketHeartbeat } from '../liveness/webSocketHeartbeat.js';
import { tagged } from '../log/logger.js';
import { closeServer, listen, peerAddress, SocketSet, type RunningListener } from '../net/serverSockets.js';
import type { WebSocketTransport } from '../transport/webSocketTransport.js';
import type { Readiness } from '../lifecycle/readiness.js';
import type { ListenerContext, ReloadableTlsServer } from './listenerContext.js';
import { wssRequestHandler } from './wssRequests.js';
import { createWssServer } from './wssServer.js';
import { wssUpgradeHandler } from './wssUpgrade.js';

/** Room for a DAP header on top of `dap.maxMessageBytes` in one binary frame. */
const dapHeaderAllowance = 1024;

/**
 * The `wss` listener (docs/protocol.md §3): an HTTPS server (TLS 1.2+) answering
 * `GET /v1/targets`, the health probes (with `readiness`) and WebSocket upgrades for
 * agents and clients. Every upgrade is
 * authenticated in the `upgrade` event, before `handleUpgrade`; a refusal is an HTTP
 * response with a JSON body, and the socket is closed. `/ptvsd` (ptvsdEndpoint.ts) is an
 * info page, or an attach to the default target. With `listeners.wss.tls: false` it is
 * plain HTTP for a front end on loopback; `X-Forwarded-For`/`-Proto` count only from
 * `frontEnd.trustedProxies` (forwardedClient.ts).
 */
export async function startHttpsListener(context: ListenerContext, listener: WssListenerConfig, readiness?: Readiness): Promise<RunningListener> {
  const { config } = context;
  const log = tagged(context.logger, 'relay', { listener: 'wss' });
  const tlsLog = tagged(context.logger, 'tls', { listener: 'wss' });
  const sockets = new SocketSet();
  const trustedProxies = trustedProxyList(config.frontEnd.trustedProxies);
  const server = createWssServer(context, listener);
  // A reload swaps the certificate for new connections (relayReloader.ts).
  if (listener.tls) context.onTlsServer?.(server as unknown as ReloadableTlsServer);
  // Two servers so that each kind of connection gets its own frame bound.
  const controlServer = new WebSocketServer({ noServer: true, maxPayload: config.limits.maxControlMessageBytes });
  const dataServer = new WebSocketServer({ noServer: true, maxPayload: config.dap.maxMessageBytes + dapHeaderAllowance });

  /** Pings a data connection (client or agent) and closes it as half-open after `heartbeat.timeoutMs` of silence. */
  const heartbeating = (transport: WebSocketTransport): WebSocketTransport => {
    startWebSocketHeartbeat(transport, config.heartbeat.intervalMs, config.heartbeat.timeoutMs, () => context.onHeartbeatMissed?.('wss'));
    return transport;
  };

  const upgrade = wssUpgradeHandler({ context, log, sockets, trustedProxies, controlServer, dataServer, heartbeating });
  const respond = wssRequestHandler(context, log, trustedProxies, readiness);
  context.preAuth?.guard(server); // before TLS: over a cap the socket is destroyed at once
  server.on('connection', (socket) => sockets.add(socket));
  // A rejection that escaped a handler (its refusal failing too) would end the process
  // (Node 20 crashes on unhandled rejections): it ends that connection only.
  const contain =
    (what: string, socket: Duplex) =>
    (error: unknown): void => {
      log.error({ err: error }, `${what} failed`);
      socket.destroy();
    };
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => void upgrade(request, socket, head).catch(contain('upgrade', socket)));
  server.on('request', (request: IncomingMessage, response: ServerResponse) => void respond(request, response).catch(contain('request', request.socket)));
  server.on('tlsClientError', (error: Error & { code?: string }, socket) => {
    tlsLog.debug({ remote: peerAddress(socket), code: error.code, reason: error.message }, 'TLS handshake failed');
  });

  const address = await listen(server, listener.host, listener.port, listener.tls ? 'wss' : 'ws', context.logger);
  return {
    address,
    close: async () => {
      const closed = closeServer(server);
      for (const ws of [...controlServer.clients, ...dataServer.clients]) ws.terminate();
      server.closeAllConnections();
      sockets.destroyAll();
      await closed;
      await Promise.all([new Promise((resolve) => controlServer.close(resolve)), new Promise((resolve) => dataServer.close(resolve))]);
    },
  };
}
