import { killTimerNotice } from './relayMessages.js';
import { randomBytes } from 'node:crypto';
import type { JsonDepthBound } from '../common/jsonDepth.js';
import { RelayError } from '../common/relayError.js';
import type { Principal } from '../auth/principal.js';
import { requireRole, requireTargetGrant } from '../auth/grants.js';
import { DapPipe, type DapPipeCloseReason, type DapPipeOptions } from '../dap/dapPipe.js';
import { tagged, type Logger } from '../log/logger.js';
import { isValidTargetName, maxTargetNameChars } from '../protocol/targetName.js';
import type { AgentConnection } from '../agents/agentConnection.js';
import type { TargetRegistry } from '../targets/targetRegistry.js';
import type { Transport } from '../transport/transport.js';
import { SessionGuards, type SessionSubject } from './sessionGuards.js';
import type { GuardedSession } from './guardedSession.js';
import type { PrefetchLimits } from '../protocol/prefetch.js';
import type { SessionMetrics } from '../metrics/sessionMetrics.js';
import { isHeartbeatName } from '../liveness/heartbeat.js';
import { IdleTimer } from './idleTimer.js';
import type { LifecycleState } from '../lifecycle/lifecycleLimits.js';
import { SessionLedger, type AdmittedSession, type SessionRecord } from './sessionLedger.js';
import type { ResumeOutcome } from './sessionStatus.js';

/** Options of a {@link SessionBroker}. */
export interface SessionBrokerOptions {
  readonly registry: TargetRegistry<AgentConnection>;
  /** Bound on one DAP message (config `dap.maxMessageBytes`). */
  readonly maxMessageBytes: number;
  /** Bound on the nesting of the DAP messages the relay parses (config `limits.maxJsonDepth`; default 64). */
  readonly jsonDepth?: JsonDepthBound;
  readonly logger: Logger;
  /** Policies, leases, watchdog, detach and audit (default: {@link SessionGuards.permissive}). */
  readonly guards?: SessionGuards;
  /** The relay's session and DAP traffic metrics, if it keeps metrics. */
  readonly metrics?: SessionMetrics;
  /** Draining state and the `limits.*` session bounds (none: unbounded, never draining). */
  readonly lifecycle?: LifecycleState;
  /** Called when a session is ended by `limits.sessionIdleTimeoutMs`. */
  readonly onIdleTimeout?: () => void;
  /**
   * The table the broker records its sessions in: the one `registry` reads its
   * per-target session counts from (default: a ledger of its own, which the registry
   * does not see).
   */
  readonly ledger?: SessionLedger;
  /**
   * What an agent may send ahead on each stop, for clients that ask (config
   * `dap.prefetch`; none: never asked of agents).
   */
  readonly prefetch?: PrefetchLimits;
}

/** A client's request for a session with a target. */
export interface SessionRequest {
  readonly principal: Principal;
  readonly target: string;
  readonly via: 'wss' | 'tcps';
  readonly clientAddress: string;
  /** Aborted when the client leaves before the session is accepted. */
  readonly signal?: AbortSignal;
  /** An admin asks to take the target over from its current holder (sessions.exclusive). */
  readonly takeover?: boolean;
  /** The client's heartbeat interval when it sends heartbeats (tcps); a forwarded session passes it to the holder. */
  readonly heartbeatMs?: number;
  /** The client uses answers sent ahead on each stop (`dbgrelay attach`; docs/protocol.md §6). */
  readonly prefetch?: boolean;
}

/** What an attach check (docs/protocol.md §3, revision 1.14) asks: would this principal's session with this target be admitted now? */
export type AdmissionRequest = Pick<SessionRequest, 'principal' | 'target' | 'takeover'>;

/** Opens sessions: the broker itself, or with several instances the router that forwards to the holder. */
export interface SessionOpener {
  prepare(request: SessionRequest): Promise<PreparedSession>;
  /** Throws the refusal a session of `request` would get now, opening nothing (see {@link SessionBroker.checkAdmission}). */
  checkAdmission(request: AdmissionRequest): Promise<void>;
}

/** A session whose agent side is connected, waiting for the client side. */
export interface PreparedSession {
  /** Connects the accepted client transport and starts forwarding DAP. */
  start(client: Transport): void;
  /** The client could not be accepted after all: closes the agent side. */
  abort(): void;
}

/**
 * Brokers client sessions (docs/protocol.md §6): authorizes the client for the target,
 * asks the target's agent to open a data connection, and only once it is there lets
 * the listener accept the client; then connects both with a {@link DapPipe}. Logs one
 * line per refused session, and one when a session starts and one when it ends.
 */
export class SessionBroker {
  private readonly ledger: SessionLedger;
  private readonly logger: Logger;
  private readonly guards: SessionGuards;
  private closed = false;

  constructor(private readonly options: SessionBrokerOptions) {
    this.logger = tagged(options.logger, 'session');
    this.guards = options.guards ?? SessionGuards.permissive(this.logger);
    this.ledger = options.ledger ?? new SessionLedger();
    options.metrics?.observeActive(() => this.ledger.running);
  }

  /** Number of sessions forwarding DAP. */
  get activeSessions(): number {
    return this.ledger.running;
  }

  /**
   * Opens the agent side of a session. Rejects with a {@link RelayError}:
   * `AUTH_FAILED` (no client grant for the target, or a takeover without the admin grant), `TARGET_NAME_INVALID`, `UNKNOWN_TARGET`, `TARGET_BUSY`, `AGENT_OPEN_FAILED`, `AGENT_OPEN_TIMEOUT`, `AGENT_GONE`,
   * `RELAY_DRAINING`, `LIMIT_REACHED` (`limits.maxSessionsPerPrincipal`, `limits.maxSessionsPerTarget`).
   */
  async prepare(request: SessionRequest): Promise<PreparedSession> {
    const startedAt = performance.now();
    const session = randomBytes(6).toString('hex');
    let killTimer: { readonly seconds: number; readonly source: string } | undefined;
    const prefetch = request.prefetch ? this.options.prefetch : undefined;
    const subject: SessionSubject = { session, ...request, target: request.target.slice(0, maxTargetNameChars), prefetch: prefetch !== undefined };
    const log = this.logger.child({
      session,
      target: request.target.slice(0, maxTargetNameChars),
      via: request.via,
      client: request.clientAddress,
      principal: request.principal.id,
    });
    const elapsed = (): number => Math.round(performance.now() - startedAt);
    const metrics = this.options.metrics;
    let adapter: Transport;
    let guarded: GuardedSession | undefined;
    let admitted: AdmittedSession | undefined;
    try {
      this.authorize(request);
      const entry = this.options.registry.lookup(request.target);
      if (!entry) throw new RelayError('UNKNOWN_TARGET', `no target named "${request.target}" is connected`);
      admitted = this.ledger.admit({ id: session, principal: request.principal.id, target: request.target, entry }, this.options.lifecycle);
      killTimer = entry.registration?.process.killTimer;
      // one debugger per target, policy, and a pause bound below the server's kill timer
      guarded = await this.guards.admit(killTimer !== undefined ? { ...subject, killTimerMs: Math.round(killTimer.seconds * 1000) } : subject, log);
      if (request.signal?.aborted) throw new RelayError('AGENT_GONE', 'the client left');
      admitted.opening();
      const pending = entry.endpoint.open(prefetch ? { prefetch } : {});
      const onAbort = (): void => pending.cancel();
      request.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        adapter = await pending.transport;
      } finally {
        request.signal?.removeEventListener('abort', onAbort);
      }
      if (this.closed) {
        adapter.destroy();
        throw new RelayError('AGENT_GONE', 'the relay is shutting down');
      }
    } catch (error) {
      const code = error instanceof RelayError ? error.code : 'INTERNAL';
      guarded?.abandon();
      admitted?.release();
      if (!request.signal?.aborted) this.guards.recordRefusal(subject, code, (error as Error).message);
      metrics?.countOutcome(request.signal?.aborted ? 'clientLeft' : 'refused', code);
      log.info({ outcome: request.signal?.aborted ? 'clientLeft' : 'refused', code, durationMs: elapsed() }, 'session refused');
      throw error;
    }
    const guard = guarded;
    const ledgerEntry = admitted;
    const release = (): void => ledgerEntry.release();
    let settled = false;
    return {
      start: (client) => {
        if (settled) throw new RelayError('INTERNAL', 'session already started');
        settled = true;
        try {
          if (this.closed) throw new RelayError('AGENT_GONE', 'the relay is shutting down');
          guard.opened(); // durable before any DAP byte flows
        } catch (error) {
          log.error({ code: (error as RelayError).code }, 'session not started');
          guard.abandon();
          release();
          client.destroy();
          adapter.destroy();
          metrics?.countOutcome('failed');
          return;
        }
        try {
          const sessionStart = performance.now();
          const idleTimeoutMs = this.options.lifecycle?.values.sessionIdleTimeoutMs ?? 0;
          const idle = new IdleTimer(idleTimeoutMs, () => {
            log.info({ idleTimeoutMs }, 'session idle; ending it');
            this.options.onIdleTimeout?.();
            guard.notify(`no DAP message for ${idleTimeoutMs} ms (limits.sessionIdleTimeoutMs); the relay ends this session, the program keeps running`);
            pipe.close();
          });
          const counting = metrics ? countingMessages(metrics) : undefined;
          log.info({ outcome: 'started', openMs: elapsed() }, 'session started');
          metrics?.attachSeconds.observe((sessionStart - startedAt) / 1000);
          const pipe = new DapPipe(client, adapter, {
            maxMessageBytes: this.options.maxMessageBytes,
            ...(this.options.jsonDepth ? { jsonDepth: this.options.jsonDepth } : {}),
            ...guard.pipeOptions(),
            onMessage: (direction, name, bytes, message) => {
              if (!isHeartbeatName(name)) idle.touch(); // a keep-alive is not use of the session
              counting?.(direction, name, bytes, message);
            },
            onClose: (reason: DapPipeCloseReason) => {
              idle.dispose();
              guard.closed(reason);
              release();
              const durationMs = performance.now() - sessionStart;
              metrics?.countOutcome(reason.closedBy === 'protocolError' ? 'protocolError' : 'ended');
              metrics?.durationSeconds.observe(durationMs / 1000);
              log.info(
                {
                  outcome: reason.closedBy === 'protocolError' ? 'protocolError' : 'ended',
                  closedBy: reason.closedBy,
                  code: reason.error instanceof RelayError ? reason.error.code : undefined,
                  reason: reason.error?.message,
                  durationMs: Math.round(durationMs),
                },
                'session ended',
              );
            },
          });
          guard.bind(pipe);
          if (killTimer !== undefined) guard.notify(killTimerNotice(killTimer, guard.maxPauseMs));
          guard.onEvict(async () => {
            pipe.close();
            await pipe.closed;
          });
          ledgerEntry.start({
            close: () => pipe.close(),
            closed: pipe.closed,
            notify: (text) => guard.notify(text, 'console'),
            status: () => guard.status,
            resume: (by) => guard.resume(by),
          });
        } catch (error) {
          // Nothing may keep counting against the limits: the session leaves the ledger, and
          // closing both sides ends a pipe that was already built (its close releases too).
          log.error({ err: error }, 'session failed to start');
          release();
          client.destroy();
          adapter.destroy();
          throw error;
        }
      },
      abort: () => {
        if (settled) return;
        settled = true;
        guard.abandon();
        release();
        adapter.destroy();
        metrics?.countOutcome('clientLeft');
        log.info({ outcome: 'clientLeft', durationMs: elapsed() }, 'session refused');
      },
    };
  }

  /**
   * What is checked before a target is looked up, here and before a session is
   * forwarded to another instance: not closing or draining, a client grant for the
   * target, the admin grant for a takeover, a valid name. Throws the refusal.
   */
  authorize(request: SessionRequest): void {
    if (this.closed) throw new RelayError('AGENT_GONE', 'the relay is shutting down');
    this.options.lifecycle?.refuseWhileDraining('sessions');
    requireRole(request.principal, 'client');
    if (request.takeover && !request.principal.grants.admin) throw new RelayError('AUTH_FAILED', 'taking a target over needs the admin grant');
    if (!isValidTargetName(request.target)) throw new RelayError('TARGET_NAME_INVALID', 'invalid target name');
    requireTargetGrant(request.principal, 'client', request.target); // every session (e.g. attach secret: one target)
  }

  /**
   * Throws the refusal {@link prepare} would give `request` now, without opening
   * anything or asking the agent: the grants (a takeover needs admin), draining, the
   * target connected here, and one debugger per target (`TARGET_BUSY`). A `limits.*`
   * bound or the agent may still refuse the session itself.
   */
  async checkAdmission(request: AdmissionRequest): Promise<void> {
    this.authorize({ ...request, via: 'wss', clientAddress: '' });
    if (!this.options.registry.lookup(request.target)) throw new RelayError('UNKNOWN_TARGET', `no target named "${request.target}" is connected`);
    this.guards.checkLease(request);
  }

  /** Audits, counts and logs a refusal decided outside {@link prepare} (a session that could not be forwarded). */
  recordRefusal(request: SessionRequest, error: RelayError): void {
    const target = request.target.slice(0, maxTargetNameChars);
    const session = randomBytes(6).toString('hex');
    this.guards.recordRefusal({ session, ...request, target }, error.code, error.message);
    this.options.metrics?.countOutcome('refused', error.code);
    this.logger.info(
      { session, target, via: request.via, client: request.clientAddress, principal: request.principal.id, outcome: 'refused', code: error.code },
      'session refused',
    );
  }

  /**
   * Refuses new sessions and closes every session; each attached one first detaches
   * its debugger (bounded by `sessions.detachTimeoutMs`). Resolves when all are closed.
   */
  async close(): Promise<void> {
    this.closed = true;
    const sessions = this.ledger.runningSessions();
    for (const session of sessions) session.close();
    await Promise.all(sessions.map((session) => session.closed));
    this.guards.close();
  }

  /** Sends every running session's client an `output` event of the relay's own (category `console`). */
  notifyAll(text: string): number {
    for (const session of this.ledger.runningSessions()) session.notify(text);
    return this.ledger.running;
  }

  /** When each running session's debuggee stopped (epoch ms), for those stopped now. */
  pausedSince(): number[] {
    return this.ledger.runningSessions().flatMap((session) => {
      const { pausedSince } = session.status();
      return pausedSince !== undefined ? [pausedSince] : [];
    });
  }

  /** Every session of this relay, in order of admission (the web console's sessions view). */
  sessionRecords(): SessionRecord[] {
    return this.ledger.records();
  }

  /**
   * Ends the running session `id` on behalf of `by` (an administrator): its client is
   * told why, the debugger detaches (the program runs on), and the end is audited.
   * Resolves false when no such session runs.
   */
  async endSession(id: string, by: string): Promise<boolean> {
    const session = this.ledger.runningSession(id);
    const record = this.ledger.records().find((candidate) => candidate.id === id);
    if (!session || !record) return false;
    this.guards.recordAdminAction({ event: 'session.ended', session: id, principal: by, target: record.target, holder: record.principal });
    session.notify(`${by} ended this session from the web console; the debugger detaches and the program keeps running`);
    session.close();
    await session.closed;
    return true;
  }

  /** Resumes the stopped debuggee of running session `id` on behalf of `by`: debugpy's answer, undefined when no such session runs. */
  async resumeSession(id: string, by: string): Promise<ResumeOutcome | undefined> {
    return this.ledger.runningSession(id)?.resume(by);
  }

  /** Resolves when no session is forwarding DAP any more. */
  async idle(): Promise<void> {
    while (this.ledger.running > 0) await Promise.race(this.ledger.runningSessions().map((session) => session.closed));
  }
}

/** The DapPipe `onMessage` hook that counts a session's bytes and client requests. */
function countingMessages(metrics: SessionMetrics): NonNullable<DapPipeOptions['onMessage']> {
  return (direction, _name, bytes, message) =>
    metrics.countMessage(direction === 'toAdapter', bytes, message?.type === 'request' ? (message as { command?: unknown }).command : undefined);
}
