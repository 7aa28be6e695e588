import { createServer, type TLSSocket } from 'node:tls';
import { RelayError } from '../common/relayError.js';
import { tlsPolicy } from '../common/tlsPolicy.js';
import { heartbeatTimeoutFor } from '../liveness/heartbeat.js';
import { LivenessTransport } from '../liveness/livenessTransport.js';
import { asRelayError } from '../listeners/httpResponses.js';
import { readHelloLine } from '../listeners/helloLine.js';
import type { Logger } from '../log/logger.js';
import { listen, peerAddress, runningListener, SocketSet, type RunningListener } from '../net/serverSockets.js';
import type { SessionBroker } from '../session/sessionBroker.js';
import { SocketTransport } from '../transport/socketTransport.js';
import type { ClusterMetrics } from './clusterMetrics.js';
import { forwardAnswerLine, forwardedPrincipal, maxPeerHelloBytes, parsePeerHello, type AgentDataHello, type ForwardHello } from './peerHello.js';
import type { AgentConnection } from '../agents/agentConnection.js';
import type { AgentHub } from '../agents/agentHub.js';
import type { TargetRegistry } from '../targets/targetRegistry.js';
import type { Transport } from '../transport/transport.js';
import { linkKeepAliveMs, type PeerTls } from './peerTls.js';
import { refuseGraceMs } from '../listeners/tcpsListener.js';

/** What the peer listener needs of its relay. */
export interface PeerListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: PeerTls;
  readonly broker: SessionBroker;
  /** The agents connected here: a data connection that landed on another instance is handed over to them. */
  readonly hub: AgentHub;
  /** The targets connected here, whose attach secrets a forwarded attach-secret principal must match. */
  readonly registry: TargetRegistry<AgentConnection>;
  /** The relay's `heartbeat.timeoutMs`: a link whose client sends heartbeats is watched like the client itself. */
  readonly heartbeatTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly metrics: ClusterMetrics;
  readonly logger: Logger;
}

/**
 * Where the other instances forward sessions (docs/architecture.md "Several relays"):
 * TLS that requires a certificate of the cluster's CA, one hello line naming the
 * principal the forwarding instance authenticated and the target, then the session's
 * DAP bytes. This instance holds the target's agent and runs the session exactly as
 * for a client of its own: authorization again, one debugger per target, takeover,
 * policies, the watchdog, audit; when the link closes the debugger detaches. The
 * other op hands over an agent's data connection that the balancer sent to another
 * instance than the one that asked the agent for it.
 */
export async function startPeerListener(options: PeerListenerOptions): Promise<RunningListener> {
  const { broker, logger, metrics } = options;
  const sockets = new SocketSet();
  const server = createServer(
    {
      cert: options.tls.cert,
      key: options.tls.key,
      ca: options.tls.ca,
      requestCert: true,
      rejectUnauthorized: true,
      ...tlsPolicy,
      handshakeTimeout: options.handshakeTimeoutMs,
    },
    (socket: TLSSocket) => {
      sockets.add(socket);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, linkKeepAliveMs);
      socket.on('error', () => socket.destroy());
      void accept(socket).catch((error: unknown) => {
        const relayError = asRelayError(error);
        if (relayError.code === 'INTERNAL') logger.error({ err: error, peer: peerAddress(socket) }, 'forwarded session failed');
        if (!socket.destroyed) socket.end(forwardAnswerLine(relayError, recordedHere.has(error as object)));
        setTimeout(() => socket.destroy(), refuseGraceMs).unref();
      });
    },
  );
  server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
    logger.warn({ peer: peerAddress(socket), reason: error.message }, 'peer link refused: TLS handshake failed (a certificate of the cluster CA is required)');
    socket.destroy();
  });

  /** Refusals of forwarded sessions this instance recorded (audit, metrics) before answering. */
  const recordedHere = new WeakSet<object>();

  const accept = async (socket: TLSSocket): Promise<void> => {
    requirePeerCertificate(socket);
    const { line, leftover } = await readHelloLine(socket, { maxBytes: maxPeerHelloBytes, timeoutMs: options.handshakeTimeoutMs });
    const hello = parsePeerHello(line);
    if (hello.op === 'agentData') return acceptAgentData(socket, hello, leftover);
    return acceptForward(socket, hello, leftover);
  };

  /** The link as a transport, watched for silence when the peer's side sends heartbeats. */
  const linkTransport = (socket: TLSSocket, leftover: Buffer, heartbeatMs: number | undefined): Transport => {
    const link = new SocketTransport(socket, 'tcps', leftover);
    socket.resume();
    return heartbeatMs === undefined ? link : new LivenessTransport(link, heartbeatTimeoutFor(options.heartbeatTimeoutMs, heartbeatMs));
  };

  const acceptForward = async (socket: TLSSocket, hello: ForwardHello, leftover: Buffer): Promise<void> => {
    const left = new AbortController();
    const onClose = (): void => left.abort();
    socket.once('close', onClose);
    let prepared;
    try {
      const request = {
        principal: forwardedPrincipal(hello),
        target: hello.target,
        via: hello.via,
        clientAddress: hello.clientAddress,
        signal: left.signal,
        takeover: hello.takeover,
      };
      requireCurrentAttachSecret(hello, options.registry, (refusal) => broker.recordRefusal(request, refusal));
      prepared = await broker.prepare(request);
    } catch (error) {
      metrics.forwardedIn.labels(error instanceof RelayError ? error.code : 'INTERNAL').inc();
      // the broker (and the attach-secret check) recorded what they refused
      if (typeof error === 'object' && error !== null) recordedHere.add(error);
      throw error;
    } finally {
      socket.off('close', onClose);
    }
    if (socket.destroyed) return prepared.abort();
    metrics.forwardedIn.labels('ok').inc();
    socket.write(forwardAnswerLine());
    logger.info({ target: hello.target, from: hello.from, principal: hello.principal.id }, 'forwarded session accepted');
    prepared.start(linkTransport(socket, leftover, hello.heartbeatMs));
  };

  const acceptAgentData = (socket: TLSSocket, hello: AgentDataHello, leftover: Buffer): void => {
    const deliver = options.hub.claimSession(hello.sessionId, forwardedPrincipal(hello));
    socket.write(forwardAnswerLine());
    deliver(linkTransport(socket, leftover, hello.heartbeatMs));
  };

  return runningListener(server, sockets, await listen(server, options.host, options.port, 'tcps', logger));
}

/**
 * An attach-secret principal was checked by the forwarder against the digest in the
 * store, which may lag behind the agent here (it registered again with another
 * secret): the holder compares that digest with its own, and refuses (`AUTH_FAILED`,
 * recorded by `record`) when they differ.
 */
function requireCurrentAttachSecret(hello: ForwardHello, registry: TargetRegistry<AgentConnection>, record: (refusal: RelayError) => void): void {
  if (hello.principal.method !== 'attachSecret') return;
  const own = registry.lookup(hello.target)?.endpoint.attachSecret?.sharedForm();
  if (own !== undefined && own === hello.attachSecret) return;
  const refusal = new RelayError('AUTH_FAILED', 'invalid credentials');
  record(refusal);
  throw refusal;
}

/** OIDs of the `serverAuth` and `clientAuth` extended key usages (RFC 5280 §4.2.1.12). */
const peerUsages = ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'];

/**
 * Refuses (`AUTH_FAILED`) a certificate of the cluster CA that is not a peer
 * certificate: `dbgrelay certs peer` issues both `serverAuth` and `clientAuth`, an
 * engineer's client certificate only `clientAuth`. So a client certificate can never
 * forward sessions in another principal's name, even where one CA issued both.
 */
function requirePeerCertificate(socket: TLSSocket): void {
  const usages = socket.getPeerCertificate().ext_key_usage;
  if (usages !== undefined && peerUsages.every((usage) => usages.includes(usage))) return;
  throw new RelayError('AUTH_FAILED', 'not a relay peer certificate: it needs the serverAuth and clientAuth extended key usages (dbgrelay certs peer makes one)');
}
