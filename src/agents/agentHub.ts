import { bestEffortAuditSink, discardingAuditSink, type AuditSink } from '../audit/auditEvent.js';
import { RelayError } from '../common/relayError.js';
import type { Principal } from '../auth/principal.js';
import { requireRole, requireTargetGrant } from '../auth/grants.js';
import { relaySecretPrincipalId } from '../auth/secretAuthenticator.js';
import { tagged, type Logger } from '../log/logger.js';
import { AgentConnection, type AgentConnectionHooks, type AgentConnectionLimits } from './agentConnection.js';
import type { ControlChannel } from './controlChannel.js';
import type { TargetRegistry } from '../targets/targetRegistry.js';
import type { Transport } from '../transport/transport.js';
import type { AgentMetrics } from '../metrics/agentMetrics.js';
import type { LifecycleState } from '../lifecycle/lifecycleLimits.js';

/**
 * Owns the agents' control connections: turns each authenticated control channel
 * into an {@link AgentConnection}, keeps the {@link TargetRegistry} in step with
 * them, and finds the agent that issued a session id.
 */
export class AgentHub {
  private readonly connections = new Set<AgentConnection>();
  /** Open control connections by principal id, so that admission does not count them one by one. */
  private readonly perPrincipal = new Map<string, number>();
  /** Which connection issued each pending session id, so that a data connection finds it at once. */
  private readonly sessionOwners = new Map<string, AgentConnection>();
  private readonly logger: Logger;
  private readonly audit: AuditSink;

  /** `audit` receives `guard.resumed` records (best effort: a lost record is logged). */
  constructor(
    private readonly registry: TargetRegistry<AgentConnection>,
    private readonly limits: AgentConnectionLimits,
    logger: Logger,
    private readonly metrics?: AgentMetrics,
    private readonly lifecycle?: LifecycleState,
    audit: AuditSink = discardingAuditSink,
  ) {
    this.logger = tagged(logger, 'agent');
    this.audit = bestEffortAuditSink(audit, (error) => this.logger.error({ err: error }, 'audit record lost'));
    metrics?.observe({ connections: () => this.connectionsByTransport(), targets: () => registry.size });
  }

  /**
   * Takes over a control channel whose peer authenticated as `principal`. While the
   * relay drains (`RELAY_DRAINING`) or at `limits.maxAgents` or
   * `limits.maxAgentsPerPrincipal` (`LIMIT_REACHED`) the connection is closed at once
   * with an `error` message.
   */
  accept(channel: ControlChannel, principal: Principal): AgentConnection {
    const refusal = this.admissionRefusal(principal);
    const connection = new AgentConnection(channel, principal, this.limits, this.hooks, this.logger);
    this.connections.add(connection);
    this.perPrincipal.set(principal.id, (this.perPrincipal.get(principal.id) ?? 0) + 1);
    if (refusal) connection.close(refusal);
    return connection;
  }

  /** What every connection tells the hub: one object for all of them, each callback given its connection. */
  private readonly hooks: AgentConnectionHooks = {
    onRegister: (agent, message) => {
      requireTargetGrant(agent.principal, 'agent', message.target.name);
      this.requireOwnAgentId(agent, message.agentId);
      const replaced = this.registry.register(agent, message, agent.channel.kind);
      this.logger.info(
        {
          ...agent.logFields,
          target: message.target.name,
          agentId: message.agentId,
          pid: message.process.pid,
          host: message.process.host,
          replaced: replaced.length > 0,
        },
        'agent registered',
      );
    },
    onClose: (agent, error) => {
      this.forget(agent);
      if (error?.code === 'HEARTBEAT_TIMEOUT') this.metrics?.heartbeatMisses.inc();
      const removed = this.registry.remove(agent);
      const fields = { ...agent.logFields, target: agent.registration?.target.name, agentId: agent.agentId, code: error?.code };
      if (error && !agent.registration) this.logger.warn({ ...fields, reason: error.message }, 'agent refused');
      else if (removed) this.logger.info({ ...fields, reason: error?.message }, 'agent disconnected');
      else this.logger.info(fields, 'agent connection closed');
    },
    onLabelsRefused: () => this.metrics?.labelsRefused.inc(),
    onSessionIdIssued: (agent, sessionId) => this.sessionOwners.set(sessionId, agent),
    onSessionIdEnded: (_agent, sessionId) => this.sessionOwners.delete(sessionId),
    onGuard: (agent, message) => {
      const fields = { target: agent.registration?.target.name, agentId: agent.agentId, pid: agent.registration?.process.pid };
      this.logger.warn({ ...agent.logFields, ...fields, reason: message.reason, pausedMs: message.pausedMs }, 'the pause guard inside the debuggee resumed it');
      this.audit.record({ event: 'guard.resumed', ...fields, host: agent.registration?.process.host, reason: message.reason, pausedMs: message.pausedMs });
    },
    onStatus: (agent, message, previous) => {
      if (previous?.debugger === message.debugger && previous.detail === message.detail) return;
      const fields = { ...agent.logFields, target: agent.registration?.target.name, agentId: agent.agentId, debugger: message.debugger, detail: message.detail };
      if (message.debugger === 'ok') this.logger.info(fields, 'debugger inside the debuggee works');
      else
        this.logger.warn(fields, message.debugger === 'broken' ? 'debugger inside the debuggee is broken; the target cannot be debugged' : 'debuggee runs without its pause guard');
    },
  };

  /** Drops a closed connection from the hub's sets and counts (once). */
  private forget(connection: AgentConnection): void {
    if (!this.connections.delete(connection)) return;
    const id = connection.principal.id;
    const left = (this.perPrincipal.get(id) ?? 1) - 1;
    if (left > 0) this.perPrincipal.set(id, left);
    else this.perPrincipal.delete(id);
  }

  /** Why a further control connection is refused now, if it is. */
  private admissionRefusal(principal: Principal): RelayError | undefined {
    try {
      this.lifecycle?.refuseWhileDraining('agents');
      this.lifecycle?.requireBelow('maxAgents', this.connections.size, 'agent control connections');
      // The relay secret is every agent's credential in the simple setup: maxAgents alone bounds it.
      if (principal.id !== relaySecretPrincipalId) {
        this.lifecycle?.requireBelow('maxAgentsPerPrincipal', this.connectionsOf(principal.id), 'agent control connections of one identity');
      }
      return undefined;
    } catch (error) {
      return error as RelayError;
    }
  }

  /** Open control connections (registered or not) of the principal `principalId`. */
  private connectionsOf(principalId: string): number {
    return this.perPrincipal.get(principalId) ?? 0;
  }

  /**
   * Sends every agent `goaway` and closes its control connection (the relay drains):
   * agents reconnect with their backoff, not before `retryAfterMs`. Open sessions keep
   * their data connections.
   */
  goAwayAll(reason: string, retryAfterMs: number): void {
    for (const connection of [...this.connections]) connection.goAway(reason, retryAfterMs);
  }

  /**
   * An agent id is not a credential (the relay logs it): a registration may replace
   * only a registration of the same identity (docs/protocol.md §5). Throws
   * `TARGET_NAME_IN_USE` when another identity's agent holds `agentId`, so that nobody
   * can take over or evict a target by reusing its agent id.
   */
  private requireOwnAgentId(agent: AgentConnection, agentId: string): void {
    const other = this.registry.agentWithId(agentId);
    if (other !== undefined && other !== agent && other.principal.id !== agent.principal.id) {
      throw new RelayError('TARGET_NAME_IN_USE', 'the agent id is registered by another identity');
    }
  }

  /**
   * Claims session id `sessionId` for a data connection of `principal`; returns the
   * function that hands the connection to the waiting session. Throws `UNKNOWN_SESSION`.
   */
  claimSession(sessionId: string, principal: Principal): (transport: Transport) => void {
    requireRole(principal, 'agent');
    const owner = this.sessionOwners.get(sessionId);
    if (owner?.hasPendingSession(sessionId)) return owner.claim(sessionId, principal);
    throw new RelayError('UNKNOWN_SESSION', 'unknown, used or expired session id');
  }

  /** Number of open control connections (registered or not). */
  get size(): number {
    return this.connections.size;
  }

  /** Open control connections (registered or not) by transport. */
  connectionsByTransport(): Record<'wss' | 'tcps', number> {
    const counts = { wss: 0, tcps: 0 };
    for (const connection of this.connections) counts[connection.channel.kind] += 1;
    return counts;
  }

  /** Closes every control connection. */
  closeAll(): void {
    for (const connection of [...this.connections]) connection.close();
  }
}
