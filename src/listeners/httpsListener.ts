import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { ReloadableTlsServer } from './listenerContext.js';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { credentialFromAuthorization, pathWithoutQuery } from '../auth/credentialParser.js';
import { requireRole } from '../auth/grants.js';
import { RelayError } from '../common/relayError.js';
import { tlsPolicy } from '../common/tlsPolicy.js';
import type { WssListenerConfig } from '../config/configSchema.js';
import { trustedProxyList } from '../config/frontEndConfigSchema.js';
import { tagged } from '../log/logger.js';
import { WebSocketControlChannel } from '../agents/webSocketControlChannel.js';
import { WebSocketTransport } from '../transport/webSocketTransport.js';
import { clientCertificateServerOptions } from './clientCertificateTls.js';
import { clientOrigin, originFields, refuseCleartextOrigin } from './forwardedClient.js';
import { asRelayError, refuseUpgrade, sendError, sendJson } from './httpResponses.js';
import { authenticate, type ListenerContext } from './listenerContext.js';
import { closeServer, listen, peerAddress, SocketSet, type RunningListener } from '../net/serverSockets.js';
import { answerPtvsdInfo, servesPtvsd } from './ptvsdEndpoint.js';
import { currentPtvsdTarget, noPtvsdTarget } from './ptvsdTarget.js';
import { pageRequestFromHeaders, targetPage, visibleTargets } from './targetListing.js';
import { isUpgradeOnlyPath, parseUpgradeRoute, requireWebSocketHandshake, takeoverRequested } from './upgradeRoutes.js';

/** Room for a DAP header on top of `dap.maxMessageBytes` in one binary frame. */
const dapHeaderAllowance = 1024;

/**
 * The `wss` listener (docs/protocol.md §3): an HTTPS server (TLS 1.2+) answering
 * `GET /v1/targets` and WebSocket upgrades for agents and clients. Every upgrade is
 * authenticated in the `upgrade` event, before `handleUpgrade`; a refusal is an HTTP
 * response with a JSON body, and the socket is closed. `/ptvsd` (ptvsdEndpoint.ts) is an
 * info page, or an attach to the default target. With `listeners.wss.tls: false` it is
 * plain HTTP for a front end on loopback; `X-Forwarded-For`/`-Proto` count only from
 * `frontEnd.trustedProxies` (forwardedClient.ts).
 */
export async function startHttpsListener(context: ListenerContext, listener: WssListenerConfig): Promise<RunningListener> {
  const { config } = context;
  const log = tagged(context.logger, 'relay', { listener: 'wss' });
  const tlsLog = tagged(context.logger, 'tls', { listener: 'wss' });
  const sockets = new SocketSet();
  const trustedProxies = trustedProxyList(config.frontEnd.trustedProxies);
  const timeouts = {
    headersTimeout: config.limits.handshakeTimeoutMs,
    requestTimeout: config.limits.handshakeTimeoutMs + config.limits.openTimeoutMs + 1_000,
    // Node checks headersTimeout/requestTimeout only this often (default 30 s): without
    // it a client that drips its headers holds the connection far past the bound.
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(config.limits.handshakeTimeoutMs / 4))),
  };
  // listeners.wss.tls false: plain HTTP behind a TLS-terminating front end (loopback only, checked in config).
  const server: Server = listener.tls
    ? createServer({
        cert: context.tls.cert,
        key: context.tls.key,
        ...tlsPolicy, // ECDHE+AEAD suites only, no renegotiation
        ...clientCertificateServerOptions(listener.clientCertificates, context.tls.clientCa),
        handshakeTimeout: config.limits.handshakeTimeoutMs,
        ...timeouts,
      })
    : createHttpServer(timeouts);
  // A reload swaps the certificate for new connections (relayReloader.ts).
  if (listener.tls) context.onTlsServer?.(server as unknown as ReloadableTlsServer);
  // Two servers so that each kind of connection gets its own frame bound.
  const controlServer = new WebSocketServer({ noServer: true, maxPayload: config.limits.maxControlMessageBytes });
  const dataServer = new WebSocketServer({ noServer: true, maxPayload: config.dap.maxMessageBytes + dapHeaderAllowance });

  /** Pings a data connection (client or agent) and closes it as half-open after `heartbeat.timeoutMs` of silence. */
  const heartbeating = (transport: WebSocketTransport): WebSocketTransport => {
    transport.startHeartbeat(config.heartbeat.intervalMs, config.heartbeat.timeoutMs, () => context.onHeartbeatMissed?.('wss'));
    return transport;
  };

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

  const upgrade = async (request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
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
        const deliver = context.hub.claimSession(route.sessionId, principal);
        completeUpgrade(dataServer, request, socket, head, (ws) => deliver(heartbeating(new WebSocketTransport(ws, remote))));
      } else {
        const left = new AbortController();
        const onClose = (): void => left.abort();
        socket.once('close', onClose);
        const prepared = await context.broker.prepare({
          principal,
          target: route.target,
          via: 'wss',
          clientAddress: remote,
          signal: left.signal,
          takeover,
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

  const respond = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const origin = clientOrigin(request.socket, request.headers, trustedProxies);
    const remote = origin.display;
    try {
      const path = pathWithoutQuery(request.url);
      if (servesPtvsd(config, path)) return answerPtvsdInfo(config, context.registry, request, response);
      refuseCleartextOrigin(origin);
      if (path !== '/v1/targets') {
        if (isUpgradeOnlyPath(path)) throw new RelayError('BAD_REQUEST', 'this endpoint requires a WebSocket upgrade');
        throw new RelayError('NOT_FOUND', 'no such endpoint');
      }
      if (request.method !== 'GET') throw new RelayError('BAD_REQUEST', 'only GET is allowed on /v1/targets');
      const principal = await authenticate(context, () => credentialFromAuthorization(request.headers.authorization), {
        via: 'wss',
        ...originFields(origin),
        endpoint: 'targets',
        socket: request.socket,
      });
      // One page (revision 1.9, paging fields in headers); the body always fits the client's bound.
      sendJson(response, 200, targetPage(visibleTargets(principal, context.registry.list()), pageRequestFromHeaders(request.headers)));
    } catch (error) {
      const relayError = asRelayError(error);
      if (relayError.code === 'INTERNAL') log.error({ err: error, remote }, 'request failed');
      sendError(response, relayError);
    }
  };

  context.preAuth?.guard(server); // before TLS: over a cap the socket is destroyed at once
  server.on('connection', (socket) => sockets.add(socket));
  // A rejection that escaped a handler (its refusal failing too) would end the process
  // (Node 20 crashes on unhandled rejections): it ends that connection only.
  const contain = (what: string, socket: Duplex) => (error: unknown): void => {
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
