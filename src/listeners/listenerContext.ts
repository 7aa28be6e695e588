import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { authenticateForAttach, type AttachSecret } from '../auth/attachSecret.js';
import type { AuthGate } from '../auth/authGate.js';
import { presentedCertificate } from '../auth/clientCertificate.js';
import { sourceOf } from '../auth/sourceAddress.js';
import type { Authenticator, Credential, Principal } from '../auth/principal.js';
import type { RelayConfig } from '../config/configSchema.js';
import { RelayError } from '../common/relayError.js';
import { pipeBytes } from '../transport/bytePipe.js';
import type { Logger } from '../log/logger.js';
import type { AgentConnection } from '../agents/agentConnection.js';
import type { TargetRegistry } from '../targets/targetRegistry.js';
import type { AgentHub } from '../agents/agentHub.js';
import type { SessionBroker, SessionOpener } from '../session/sessionBroker.js';
import type { PageRequest, TargetPage } from './targetListing.js';
import type { Transport } from '../transport/transport.js';
import type { RelayJsonDepthBounds } from './jsonDepthBounds.js';
import type { PreAuthGate } from '../net/preAuthGate.js';
import type { ClientOrigin } from './forwardedClient.js';

/** What both listeners share: configuration, TLS material and the relay's parts. */
export interface ListenerContext {
  readonly config: RelayConfig;
  /** The relay's certificate chain and key, and the CA client certificates must chain to. */
  readonly tls: { readonly cert: string; readonly key: string; readonly clientCa?: string };
  readonly authenticator: Authenticator;
  /** Lockout, client certificates and failure metrics in front of {@link authenticator}. */
  readonly authGate: AuthGate;
  readonly registry: TargetRegistry<AgentConnection>;
  readonly hub: AgentHub;
  readonly broker: SessionBroker;
  /** Opens client sessions: the broker, or with several instances the router that forwards to the holder. */
  readonly sessions: SessionOpener;
  /**
   * With several instances: the attach secret of a target whose agent is connected to
   * another instance, from the shared store (undefined when unknown or unreachable).
   */
  readonly attachSecretElsewhere?: (target: string) => Promise<AttachSecret | undefined>;
  /**
   * With several instances: hands an agent data connection whose session id another
   * instance issued over to that instance; resolves with the link to pipe it into.
   */
  readonly handOverAgentData?: (sessionId: string, principal: Principal, heartbeatMs: number | undefined) => Promise<Transport>;
  /** One page of the targets `principal` may see (with several instances, the whole cluster's). */
  targetPage(principal: Principal, request: PageRequest): Promise<TargetPage>;
  readonly logger: Logger;
  /** Logger tagged `auth`. */
  readonly authLogger: Logger;
  /**
   * Called with each TLS server a listener creates, so that a reload can give it a new
   * certificate for new connections (`setSecureContext`).
   */
  readonly onTlsServer?: (server: ReloadableTlsServer) => void;
  /** Called when a session connection is closed as half-open (heartbeat deadline passed). */
  readonly onHeartbeatMissed?: (via: 'wss' | 'tcps') => void;
  /** Nesting bounds of hello lines and control messages (config `limits.maxJsonDepth`; default 64, uncounted). */
  readonly jsonDepth?: RelayJsonDepthBounds;
  /** Caps on connections not yet authenticated (`limits.maxUnauthenticated*`); none when absent. */
  readonly preAuth?: PreAuthGate;
  /** The web console under `/console` (config `console.enabled`); none when absent. */
  readonly console?: ConsoleEndpoint;
}

/**
 * The web console as the `wss` listener sees it (built in `src/console/`): it answers
 * every request under `/console` (consoleEndpoint.ts), authenticating through the same
 * `context` as every other request.
 */
export interface ConsoleEndpoint {
  answer(request: IncomingMessage, response: ServerResponse, context: ListenerContext, origin: ClientOrigin): Promise<void>;
}

/** What a reload needs of a listener's TLS server: a new secure context for new connections. */
export type ReloadableTlsServer = Pick<TlsServer, 'setSecureContext'>;

/** Where an authentication attempt comes from: log fields plus the TLS connection. */
export interface AuthWhere {
  readonly via: 'wss' | 'tcps';
  /** Peer `ip:port` (the forwarded client's, behind a trusted front end), for logs. */
  readonly remote: string;
  readonly endpoint: string;
  /** `ip:port` of the trusted front end a forwarded request came through, for logs. */
  readonly proxy?: string;
  /** The client's IP when a trusted front end forwarded it; failures count under it instead of the peer's. */
  readonly clientIp?: string;
  /** The TLS connection: its peer address (failure counting) and client certificate. */
  readonly socket: Socket | Duplex;
}

/**
 * Authenticates a connection through the relay's {@link AuthGate}: a locked-out
 * source is refused with `AUTH_LOCKED` first; then the client certificate (as
 * `listeners.<via>.clientCertificates` says) and the credential; a refusal is
 * counted and logged (tag `auth`) with where it came from, never with the
 * credential. `credential` may be a function that reads it, so that a malformed one
 * counts as a failure too. With `attachTarget` (a client asking to attach to that
 * target), a secret the relay-wide authenticator refuses may still be the target's
 * attach secret (docs/protocol.md §2.2).
 */
export async function authenticate(
  context: ListenerContext,
  credential: Credential | undefined | (() => Credential | undefined),
  where: AuthWhere,
  attachTarget?: string,
): Promise<Principal> {
  const { socket, clientIp, ...fields } = where;
  const source = sourceOf(clientIp ?? (socket as Partial<Socket>).remoteAddress);
  const verifyCredential = (presented: Credential | undefined): Promise<Principal> => {
    if (attachTarget === undefined) return context.authenticator.authenticate(presented);
    const lookup = (name: string): AttachSecret | undefined | Promise<AttachSecret | undefined> => {
      const entry = context.registry.lookup(name);
      return entry || !context.attachSecretElsewhere ? entry?.endpoint.attachSecret : context.attachSecretElsewhere(name);
    };
    // Attach-secret guesses are also counted per target, from whatever source (docs/operations.md "Brute force").
    return authenticateForAttach(context.authenticator, presented, attachTarget, lookup, context.authGate.attachGuard(attachTarget, source));
  };
  const tlsSocket = socket as Partial<TLSSocket>;
  const principal = await context.authGate.authenticate({
    source,
    where: fields,
    mode: context.config.listeners[where.via].clientCertificates,
    certificate: typeof tlsSocket.getPeerCertificate === 'function' ? presentedCertificate(socket as TLSSocket) : undefined,
    readCredential: typeof credential === 'function' ? credential : () => credential,
    verifyCredential,
  });
  context.preAuth?.authenticated(socket);
  return principal;
}

/** Where an agent data connection goes once it is accepted. */
export interface AgentDataDelivery {
  /** Hands the accepted connection over. */
  deliver(transport: Transport): void;
  /** The connection closed before it was accepted: lets go of what was set up for it. */
  abandon(): void;
}

/**
 * The hand-over of an agent data connection for `sessionId`: to the local agent that
 * asked for it, or (several instances) through the link to the instance that did.
 * Throws `UNKNOWN_SESSION` when neither knows the id.
 */
export async function agentDataDelivery(context: ListenerContext, sessionId: string, principal: Principal, heartbeatMs: number | undefined): Promise<AgentDataDelivery> {
  try {
    // Locally, a connection that never arrives ends as the open's timeout says.
    return { deliver: context.hub.claimSession(sessionId, principal), abandon: () => undefined };
  } catch (error) {
    if (!context.handOverAgentData || !(error instanceof RelayError) || error.code !== 'UNKNOWN_SESSION') throw error;
    const link = await context.handOverAgentData(sessionId, principal, heartbeatMs);
    return { deliver: (transport) => void pipeBytes(transport, link), abandon: () => link.close() };
  }
}
