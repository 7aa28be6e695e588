import { connect, type TLSSocket } from 'node:tls';
import type { AgentConnection } from '../agents/agentConnection.js';
import { RelayError } from '../common/relayError.js';
import { tlsPolicy } from '../common/tlsPolicy.js';
import { readHelloLine } from '../listeners/helloLine.js';
import type { Logger } from '../log/logger.js';
import type { AdmissionRequest, PreparedSession, SessionBroker, SessionOpener, SessionRequest } from '../session/sessionBroker.js';
import type { TargetRegistry } from '../targets/targetRegistry.js';
import { pipeBytes } from '../transport/bytePipe.js';
import { SocketTransport } from '../transport/socketTransport.js';
import type { ClusterMetrics } from './clusterMetrics.js';
import { routeOrUnavailable, type ClusterStore, type TargetRoute } from './clusterStore.js';
import { agentDataHelloLine, forwardHelloLine, maxPeerHelloBytes, parseForwardAnswer, recordedByHolder } from './peerHello.js';
import { sessionIdIssuer } from '../agents/sessionId.js';
import type { Principal } from '../auth/principal.js';
import { matchedAttachSecret } from '../auth/attachSecret.js';
import type { Transport } from '../transport/transport.js';
import { linkKeepAliveMs, peerDialFailure, type PeerTls } from './peerTls.js';

/** What the router needs. */
export interface SessionRouterOptions {
  readonly instanceId: string;
  readonly registry: TargetRegistry<AgentConnection>;
  readonly broker: SessionBroker;
  readonly store: ClusterStore;
  readonly tls: PeerTls;
  /** Bound on dialing a peer, and on its answer to a data connection's hand-over (`cluster.forwardTimeoutMs`). */
  readonly forwardTimeoutMs: number;
  /**
   * Bound on the holder's answer to a forwarded session: the holder may first wait for
   * its agent's data connection and for a debugger it takes over to leave, so this is
   * `cluster.forwardTimeoutMs` plus `limits.openTimeoutMs` plus `sessions.takeoverTimeoutMs`.
   */
  readonly sessionAnswerTimeoutMs: number;
  readonly metrics: ClusterMetrics;
  readonly logger: Logger;
}

/**
 * Opens sessions for the clients of one instance among several (docs/architecture.md
 * "Several relays"). A target whose agent is connected here goes to the local broker,
 * as on a relay alone. Any other is authorized here (the same checks as the broker's),
 * looked up in the shared store, and forwarded to the instance holding it over mutual
 * TLS; that instance runs the session and its guardrails, and this one only carries
 * the bytes. The client sees the holder's answer as if it came from here.
 */
export class SessionRouter implements SessionOpener {
  private readonly links = new Set<TLSSocket>();
  private closed = false;

  constructor(private readonly options: SessionRouterOptions) {}

  async prepare(request: SessionRequest): Promise<PreparedSession> {
    const { broker, registry } = this.options;
    if (this.closed || registry.lookup(request.target) !== undefined) return broker.prepare(request);
    try {
      broker.authorize(request);
      const route = await this.route(request.target);
      return await this.forward(route, request);
    } catch (error) {
      const refusal = error instanceof RelayError ? error : new RelayError('INTERNAL', 'forwarding the session failed', { cause: error });
      this.options.metrics.forwardedOut.labels(refusal.code).inc();
      // The holder records its own refusals (audit, metrics); this instance records only what it refused itself.
      if (!request.signal?.aborted && !recordedByHolder(refusal)) broker.recordRefusal(request, refusal);
      throw refusal;
    }
  }

  /**
   * The attach check (docs/protocol.md §3): the broker's for a target connected here;
   * for one held by another instance, the grants and that the store names a holder
   * (whether it is busy there is known only when the session is forwarded).
   */
  async checkAdmission(request: AdmissionRequest): Promise<void> {
    const { broker, registry } = this.options;
    if (this.closed || registry.lookup(request.target) !== undefined) return broker.checkAdmission(request);
    broker.authorize({ ...request, via: 'wss', clientAddress: '' });
    await this.route(request.target);
  }

  /** The holder of `target` from the store; `UNKNOWN_TARGET` when none, `CLUSTER_UNAVAILABLE` when the store cannot say. */
  private async route(target: string): Promise<TargetRoute> {
    const { store, instanceId } = this.options;
    const route = await routeOrUnavailable(store, target);
    // A route to this instance without a local entry is one the agent just left.
    if (route === undefined || route.instance === instanceId) throw new RelayError('UNKNOWN_TARGET', `no target named "${target}" is connected`);
    return route;
  }

  private async forward(route: TargetRoute, request: SessionRequest): Promise<PreparedSession> {
    const { instanceId, metrics, logger } = this.options;
    const matched = matchedAttachSecret(request.principal);
    const hello = forwardHelloLine({
      from: instanceId,
      target: request.target,
      principal: request.principal,
      via: request.via,
      clientAddress: request.clientAddress,
      takeover: request.takeover === true,
      ...(request.heartbeatMs !== undefined ? { heartbeatMs: request.heartbeatMs } : {}),
      // the digest this instance checked the secret against, not the route's (it may have changed since)
      ...(matched !== undefined ? { attachSecret: matched.sharedForm() } : {}),
    });
    const { link, leftover } = await this.exchange(route, hello, this.options.sessionAnswerTimeoutMs, request.signal);
    metrics.forwardedOut.labels('ok').inc();
    logger.info({ target: request.target, holder: route.instance, principal: request.principal.id }, 'session forwarded to the instance holding the target');
    let settled = false;
    return {
      start: (client) => {
        if (settled) return;
        settled = true;
        void pipeBytes(client, new SocketTransport(link, 'tcps', leftover));
      },
      abort: () => {
        if (settled) return;
        settled = true;
        link.destroy();
      },
    };
  }

  /**
   * Hands an agent's data connection that landed here over to the instance that issued
   * its session id (named in the id): resolves with the link to pipe it into. Throws
   * `UNKNOWN_SESSION` when the id names this instance or none, `CLUSTER_UNAVAILABLE`
   * when the issuer cannot be found or reached.
   */
  async handOverAgentData(sessionId: string, principal: Principal, heartbeatMs: number | undefined): Promise<Transport> {
    const { store, instanceId } = this.options;
    const issuer = sessionIdIssuer(sessionId);
    if (issuer === undefined || issuer === instanceId) throw new RelayError('UNKNOWN_SESSION', 'unknown, used or expired session id');
    const peer = await store.instancePeer(issuer).catch(() => {
      throw new RelayError('CLUSTER_UNAVAILABLE', 'the cluster store cannot be reached to find the instance that asked for this data connection');
    });
    if (peer === undefined) throw new RelayError('UNKNOWN_SESSION', `unknown, used or expired session id (relay instance ${issuer} is gone)`);
    const hello = agentDataHelloLine({ from: instanceId, sessionId, principal, ...(heartbeatMs !== undefined ? { heartbeatMs } : {}) });
    const { link, leftover } = await this.exchange({ instance: issuer, peer, fence: 0 }, hello, this.options.forwardTimeoutMs, undefined);
    return new SocketTransport(link, 'tcps', leftover);
  }

  /**
   * Dials `route`'s peer listener within `cluster.forwardTimeoutMs`, sends `hello` and
   * reads the answer within `answerTimeoutMs`: resolves with the open link and the bytes
   * after the answer; a refusal is thrown as the peer's {@link RelayError}, an
   * unreachable or silent peer as `CLUSTER_UNAVAILABLE` (the peer's address goes to the
   * log, not to the client). The link is closed on every failure and when the router closes.
   */
  private async exchange(route: TargetRoute, hello: string, answerTimeoutMs: number, signal: AbortSignal | undefined): Promise<{ link: TLSSocket; leftover: Buffer }> {
    const { tls, forwardTimeoutMs, logger } = this.options;
    const unavailable = (why: string): RelayError => {
      logger.warn({ instance: route.instance, peer: route.peer, reason: why }, 'relay instance unavailable for a forwarded connection');
      return new RelayError('CLUSTER_UNAVAILABLE', 'the relay instance holding the target cannot be reached now; try again shortly');
    };
    const link = await dialPeer(route, tls, forwardTimeoutMs, signal, unavailable);
    this.links.add(link);
    link.once('close', () => this.links.delete(link));
    const onAbort = (): void => {
      link.destroy();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      link.write(hello);
      const answer = await readHelloLine(link, { maxBytes: maxPeerHelloBytes, timeoutMs: answerTimeoutMs }).catch((error: unknown) => {
        throw unavailable(`no answer: ${(error as Error).message}`);
      });
      parseForwardAnswer(answer.line);
      return { link, leftover: answer.leftover };
    } catch (error) {
      link.destroy();
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Closes every forwarded session's link (each holder then detaches its debugger) and forwards nothing more. */
  close(): void {
    this.closed = true;
    for (const link of this.links) link.destroy();
  }
}

/** Dials the holder's peer listener with this instance's certificate; any certificate of the cluster CA is the peer. */
function dialPeer(route: TargetRoute, tls: PeerTls, timeoutMs: number, signal: AbortSignal | undefined, unreachable: (why: string) => RelayError): Promise<TLSSocket> {
  const separator = route.peer.lastIndexOf(':');
  const host = route.peer.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(route.peer.slice(separator + 1));
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port,
      cert: tls.cert,
      key: tls.key,
      ca: tls.ca,
      ...tlsPolicy,
      // Peers are named by the store, not by DNS: the dedicated cluster CA is the proof.
      checkServerIdentity: () => undefined,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(unreachable(`no TLS connection within ${timeoutMs} ms`));
    }, timeoutMs);
    const onAbort = (): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(new RelayError('AGENT_GONE', 'the client left'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, linkKeepAliveMs);
      socket.on('error', () => socket.destroy());
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(unreachable(peerDialFailure(error)));
    });
  });
}
