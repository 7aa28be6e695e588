import { createServer, type Server, type TLSSocket } from 'node:tls';
import { requireRole } from '../auth/grants.js';
import type { RelayError } from '../common/relayError.js';
import { tlsPolicy } from '../common/tlsPolicy.js';
import type { ListenerConfig } from '../config/configSchema.js';
import { tagged } from '../log/logger.js';
import { maxHelloBytes, type HelloLine } from '../protocol/controlMessages.js';
import { heartbeatTimeoutFor } from '../liveness/heartbeat.js';
import { LivenessTransport } from '../liveness/livenessTransport.js';
import { LineControlChannel } from '../agents/lineControlChannel.js';
import { SocketTransport } from '../transport/socketTransport.js';
import { clientCertificateServerOptions } from './clientCertificateTls.js';
import { credentialFromHello, parseHelloLine, readHelloLine } from './helloLine.js';
import { asRelayError, errorBody } from './httpResponses.js';
import { agentDataDelivery, authenticate, type ListenerContext } from './listenerContext.js';
import { listen, peerAddress, runningListener, SocketSet, type RunningListener } from '../net/serverSockets.js';

/**
 * How long a refused tcps connection may linger (its error line flushing, the peer
 * closing) before it is destroyed: 2 s lets the one-line refusal reach the peer, and
 * bounds what a refused peer that never closes can hold.
 */
export const refuseGraceMs = 2_000;

function writeLine(socket: TLSSocket, value: object): void {
  socket.write(JSON.stringify(value) + '\n');
}

function refuse(socket: TLSSocket, error: RelayError): void {
  if (socket.destroyed) return;
  socket.resume(); // read to the peer's end so the socket can close
  socket.end(JSON.stringify({ ok: false, ...errorBody(error) }) + '\n');
  setTimeout(() => socket.destroy(), refuseGraceMs).unref();
}

/** A transport over `socket` after the hello line; resumes the paused socket. */
function sessionTransport(socket: TLSSocket, leftover: Buffer): SocketTransport {
  const transport = new SocketTransport(socket, 'tcps', leftover);
  socket.resume();
  return transport;
}

/**
 * The `tcps` listener (docs/protocol.md §4): TLS 1.2+, then one hello line within
 * the handshake timeout and 8 KiB, authenticated before anything else; then, by
 * `op`, a control connection, an agent data connection, a client session, or the
 * target list.
 */
export async function startTcpsListener(context: ListenerContext, listener: ListenerConfig): Promise<RunningListener> {
  const { config } = context;
  const log = tagged(context.logger, 'relay', { listener: 'tcps' });
  const tlsLog = tagged(context.logger, 'tls', { listener: 'tcps' });
  const sockets = new SocketSet();

  const dispatch = async (socket: TLSSocket, hello: HelloLine, leftover: Buffer, remote: string): Promise<void> => {
    const attachTarget = hello.op === 'attach' ? hello.target : undefined;
    const principal = await authenticate(context, credentialFromHello(hello), { via: 'tcps', remote, endpoint: hello.op, socket }, attachTarget);
    switch (hello.op) {
      case 'targets':
        // One page (revision 1.9): a reply that always fits the client's bound, whatever the fleet.
        socket.end(JSON.stringify(await context.targetPage(principal, hello)) + '\n');
        return;
      case 'agent':
        requireRole(principal, 'agent');
        writeLine(socket, { ok: true });
        context.hub.accept(new LineControlChannel(socket, config.limits.maxControlMessageBytes, leftover, context.jsonDepth?.control), principal);
        return;
      case 'agentData': {
        // Delivered even when the socket already closed: its closed transport ends the session (and a hand-over's link) at once.
        const { deliver } = await agentDataDelivery(context, hello.sessionId, principal, hello.heartbeatMs);
        if (hello.heartbeatMs === undefined) {
          writeLine(socket, { ok: true });
          deliver(sessionTransport(socket, leftover));
          return;
        }
        // The agent sends heartbeats (revision 1.7): a silent data connection is half-open.
        const timeoutMs = heartbeatTimeoutFor(config.heartbeat.timeoutMs, hello.heartbeatMs);
        writeLine(socket, { ok: true, heartbeatTimeoutMs: timeoutMs });
        deliver(new LivenessTransport(sessionTransport(socket, leftover), timeoutMs, () => context.onHeartbeatMissed?.('tcps')));
        return;
      }
      case 'attach': {
        const left = new AbortController();
        const onClose = (): void => left.abort();
        socket.once('close', onClose);
        const prepared = await context.sessions.prepare({
          principal,
          target: hello.target,
          via: 'tcps',
          clientAddress: remote,
          signal: left.signal,
          takeover: hello.takeover === true,
          ...(hello.prefetch === true ? { prefetch: true } : {}),
          ...(hello.heartbeatMs !== undefined ? { heartbeatMs: hello.heartbeatMs } : {}),
        });
        socket.off('close', onClose);
        if (socket.destroyed) return prepared.abort();
        if (hello.heartbeatMs === undefined) {
          writeLine(socket, { ok: true });
          prepared.start(sessionTransport(socket, leftover));
          return;
        }
        // The client sends heartbeats: a silent connection is half-open.
        const timeoutMs = heartbeatTimeoutFor(config.heartbeat.timeoutMs, hello.heartbeatMs);
        writeLine(socket, { ok: true, heartbeatTimeoutMs: timeoutMs });
        prepared.start(new LivenessTransport(sessionTransport(socket, leftover), timeoutMs, () => context.onHeartbeatMissed?.('tcps')));
        return;
      }
    }
  };

  const server: Server = createServer(
    {
      cert: context.tls.cert,
      key: context.tls.key,
      ...tlsPolicy, // ECDHE+AEAD suites only, no renegotiation
      ...clientCertificateServerOptions(listener.clientCertificates, context.tls.clientCa),
      handshakeTimeout: config.limits.handshakeTimeoutMs,
    },
    (socket: TLSSocket) => {
      sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('error', () => socket.destroy());
      const remote = peerAddress(socket);
      void (async () => {
        try {
          const { line, leftover } = await readHelloLine(socket, { maxBytes: maxHelloBytes, timeoutMs: config.limits.handshakeTimeoutMs });
          await dispatch(socket, parseHelloLine(line, context.jsonDepth?.hello), leftover, remote);
        } catch (error) {
          const relayError = asRelayError(error);
          if (relayError.code === 'INTERNAL') log.error({ err: error, remote }, 'connection failed');
          else log.debug({ remote, code: relayError.code }, 'connection refused');
          refuse(socket, relayError);
        }
      })().catch((error: unknown) => {
        // Only a failing refusal gets here: it ends this connection, never the process.
        log.error({ err: error, remote }, 'connection failed');
        socket.destroy();
      });
    },
  );
  context.preAuth?.guard(server); // before TLS: over a cap the socket is destroyed at once
  context.onTlsServer?.(server); // a reload swaps the certificate (relayReloader.ts)
  server.on('connection', (socket) => sockets.add(socket));
  server.on('tlsClientError', (error: Error & { code?: string }, socket: TLSSocket) => {
    tlsLog.debug({ remote: peerAddress(socket), code: error.code, reason: error.message }, 'TLS handshake failed');
    // With a listener here, node:tls leaves the socket open (ERR_TLS_HANDSHAKE_TIMEOUT
    // included): a peer that never finishes the handshake would hold it forever.
    socket.destroy();
  });

  return runningListener(server, sockets, await listen(server, listener.host, listener.port, 'tcps', context.logger));
}
