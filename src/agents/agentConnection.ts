import { targetNamePattern } from '../protocol/targetName.js';
import { AttachSecret, requireAttachSecretLength } from '../auth/attachSecret.js';
import { minAttachSecretLength } from '../config/attachSecretsConfigSchema.js';
import { RelayError } from '../common/relayError.js';
import type { Principal } from '../auth/principal.js';
import type { Logger } from '../log/logger.js';
import { agentToRelayMessage, type GuardMessage, type RegisterMessage, type StatusMessage } from '../protocol/controlMessages.js';
import type { Transport } from '../transport/transport.js';
import type { OpenOptions } from '../targets/targetEndpoint.js';
import type { ControlChannel } from './controlChannel.js';
import { PendingOpens, type PendingOpen } from './pendingOpens.js';

/** Bounds of one control connection (config `limits.*`, `agents.*`). */
export interface AgentConnectionLimits {
  readonly handshakeTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly openTimeoutMs: number;
  readonly maxPendingOpens: number;
  /** Shortest attach secret a `register` may set (config `auth.attachSecrets.minLength`; default {@link minAttachSecretLength}). */
  readonly minAttachSecretLength?: number;
  /** With several relay instances: this instance's id, named in the session ids it issues. */
  readonly instanceId?: string;
}

/** What the owner of an {@link AgentConnection} learns from it. */
export interface AgentConnectionHooks {
  /** A valid `register` arrived; throw a {@link RelayError} to refuse it. */
  onRegister(agent: AgentConnection, message: RegisterMessage): void;
  /** The control connection is gone (called once, also when it never registered). */
  onClose(agent: AgentConnection, error: RelayError | undefined): void;
  /** The pause guard inside the debuggee resumed it (`guard`, revision 1.8). */
  onGuard?(agent: AgentConnection, message: GuardMessage): void;
  /** The debuggee says whether its debugger works (`status`, revision 1.8); also kept in {@link AgentConnection.debuggerStatus}. */
  onStatus?(agent: AgentConnection, message: StatusMessage, previous: StatusMessage | undefined): void;
  /** A `register` was refused because its labels passed their bounds (docs/protocol.md §5); `onClose` follows. */
  onLabelsRefused?(agent: AgentConnection): void;
  /** A one-time session id was issued on this connection (`open`), so that a data connection finds it at once. */
  onSessionIdIssued?(agent: AgentConnection, sessionId: string): void;
  /** That id was claimed, failed or expired. */
  onSessionIdEnded?(agent: AgentConnection, sessionId: string): void;
}

const knownTypes = new Set(['register', 'pong', 'openFailed', 'error', 'guard', 'status']);

/**
 * The relay's side of one agent control connection (docs/protocol.md §5): waits for
 * `register` within the handshake timeout, keeps a heartbeat with a deadline, issues
 * one-time session ids with `open` and hears `openFailed`. Closing it fails every
 * pending open with `AGENT_GONE`.
 */
export class AgentConnection {
  /** The accepted registration, once there is one (without its attach secret). */
  registration: RegisterMessage | undefined;
  /** Digest of the target's attach secret, when the agent set one. */
  attachSecret: AttachSecret | undefined;
  /** The debuggee's last `status` (revision 1.8): whether its debugger works. */
  debuggerStatus: StatusMessage | undefined;
  readonly connectedAt = new Date();
  /** Made at the first `open`: most agents of a fleet never open a session. */
  private pending: PendingOpens | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private deadline: NodeJS.Timeout | undefined;
  private nextPingId = 1;
  private closing = false;
  private finished = false;

  constructor(
    readonly channel: ControlChannel,
    readonly principal: Principal,
    private readonly limits: AgentConnectionLimits,
    private readonly hooks: AgentConnectionHooks,
    private readonly logger: Logger,
  ) {
    this.timers.push(setTimeout(() => this.close(new RelayError('HANDSHAKE_TIMEOUT', `no register message within ${limits.handshakeTimeoutMs} ms`)), limits.handshakeTimeoutMs));
    channel.onMessage((message) => this.receive(message));
    channel.onClose((error) => this.finish(error));
  }

  /**
   * Where the connection comes from, for each log line about it (fields, not a child
   * logger: a fleet of idle agents should not cost one logger each).
   */
  get logFields(): { remote: string; transport: ControlChannel['kind'] } {
    return { remote: this.channel.remoteAddress, transport: this.channel.kind };
  }

  /** The agent's id, once registered. */
  get agentId(): string | undefined {
    return this.registration?.agentId;
  }

  /** True once the control connection is closing or closed. */
  get isClosed(): boolean {
    return this.closing || this.channel.closed;
  }

  /** Number of session ids issued and not yet settled. */
  get pendingOpens(): number {
    return this.pending?.size ?? 0;
  }

  /** Asks the agent to open a session: sends `open` with a fresh one-time id (and the prefetch limits, when given). */
  open(options: OpenOptions = {}): PendingOpen {
    if (this.isClosed || !this.registration) throw new RelayError('AGENT_GONE', 'the agent is not connected');
    this.pending ??= new PendingOpens(
      this.limits.openTimeoutMs,
      this.limits.maxPendingOpens,
      {
        issued: (sessionId) => this.hooks.onSessionIdIssued?.(this, sessionId),
        ended: (sessionId) => this.hooks.onSessionIdEnded?.(this, sessionId),
      },
      this.limits.instanceId,
    );
    const pending = this.pending.issue();
    this.channel.send({ type: 'open', sessionId: pending.sessionId, ...(options.prefetch ? { prefetch: options.prefetch } : {}) });
    return pending;
  }

  /**
   * Claims a session id for a data connection presented by `principal`; returns the
   * function that hands the connection over. `UNKNOWN_SESSION` unless the id was
   * issued on this connection, is unused, and `principal` is the agent's own.
   */
  claim(sessionId: string, principal: Principal): (transport: Transport) => void {
    if (principal.id !== this.principal.id) throw new RelayError('UNKNOWN_SESSION', 'unknown, used or expired session id');
    if (!this.pending) throw new RelayError('UNKNOWN_SESSION', 'unknown, used or expired session id');
    return this.pending.claim(sessionId);
  }

  /** True when `sessionId` was issued here and is still claimable. */
  hasPendingSession(sessionId: string): boolean {
    return this.pending?.has(sessionId) ?? false;
  }

  /**
   * Tells the agent to reconnect later, possibly elsewhere (`goaway`, docs/protocol.md
   * §5, revision 1.5), and closes the control connection. Sessions already open keep
   * their data connections.
   */
  goAway(reason: string, retryAfterMs: number): void {
    if (this.isClosed) return;
    this.channel.send({ type: 'goaway', reason, retryAfterMs });
    this.close();
  }

  /** Closes the control connection, telling the agent why when `error` is given. */
  close(error?: RelayError): void {
    if (this.closing) return;
    this.closing = true;
    this.stopTimers();
    this.channel.close(error);
    this.finish(error);
  }

  private receive(raw: unknown): void {
    if (this.closing) return;
    this.deadline?.refresh();
    const type = (raw as { type?: unknown }).type;
    if (typeof type !== 'string' || !knownTypes.has(type)) {
      this.logger.debug({ ...this.logFields, type: typeof type === 'string' ? type.slice(0, 64) : typeof type }, 'ignored unknown control message');
      return;
    }
    const parsed = agentToRelayMessage.safeParse(raw);
    if (!parsed.success) {
      const badName = parsed.error.issues.some((issue) => issue.path.join('.') === 'target.name');
      // Labels past their bounds (docs/protocol.md §5) are named, so the agent's operator knows what to cut.
      const badLabels = parsed.error.issues.find((issue) => issue.path.slice(0, 2).join('.') === 'target.labels');
      if (badLabels && !badName) this.hooks.onLabelsRefused?.(this);
      return this.close(
        badName
          ? new RelayError('TARGET_NAME_INVALID', `target name must match ${targetNamePattern.source} (NAME or GROUP/MEMBER)`)
          : badLabels
            ? new RelayError('BAD_REQUEST', `register: target labels refused: ${badLabels.message}`)
            : new RelayError('BAD_REQUEST', `malformed ${type} message`),
      );
    }
    const message = parsed.data;
    if (message.type === 'error') {
      this.logger.info({ ...this.logFields, code: message.code }, 'agent reported an error');
      return this.close();
    }
    if (!this.registration) {
      if (message.type !== 'register') return this.close(new RelayError('BAD_REQUEST', 'the first control message must be register'));
      return this.register(message);
    }
    if (message.type === 'register') return this.close(new RelayError('BAD_REQUEST', 'already registered'));
    if (message.type === 'openFailed') {
      this.pending?.settle(message.sessionId, new RelayError('AGENT_OPEN_FAILED', `the agent could not open the session: ${message.message}`));
    } else if (message.type === 'guard') {
      this.hooks.onGuard?.(this, message);
    } else if (message.type === 'status') {
      const previous = this.debuggerStatus;
      this.debuggerStatus = message;
      this.hooks.onStatus?.(this, message, previous);
    }
  }

  private register(received: RegisterMessage): void {
    // The clear attach secret goes no further than this line (docs/protocol.md §2.2).
    const { attachSecret, ...message } = received;
    try {
      if (attachSecret !== undefined) requireAttachSecretLength(attachSecret, this.limits.minAttachSecretLength ?? minAttachSecretLength);
      // Before the registry learns of it: with several instances, its entry is published with the attach secret's digest.
      this.attachSecret = attachSecret === undefined ? undefined : AttachSecret.fromSecret(attachSecret);
      this.hooks.onRegister(this, message);
    } catch (error) {
      return this.close(error instanceof RelayError ? error : new RelayError('INTERNAL', 'registration failed'));
    }
    this.registration = message;
    this.stopTimers();
    const { heartbeatIntervalMs: intervalMs, heartbeatTimeoutMs: timeoutMs } = this.limits;
    this.channel.send({ type: 'registered', target: message.target.name, heartbeat: { intervalMs, timeoutMs } });
    this.timers.push(setInterval(() => this.channel.send({ type: 'ping', id: this.nextPingId++ }), intervalMs));
    this.deadline = setTimeout(() => this.close(new RelayError('HEARTBEAT_TIMEOUT', `no message from the agent for ${timeoutMs} ms`)), timeoutMs);
    this.timers.push(this.deadline);
  }

  private stopTimers(): void {
    for (const timer of this.timers.splice(0)) clearTimeout(timer);
    this.deadline = undefined;
  }

  private finish(error: RelayError | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.closing = true;
    this.stopTimers();
    this.pending?.settleAll(new RelayError('AGENT_GONE', 'the agent disconnected while the session was being opened'));
    this.hooks.onClose(this, error);
  }
}
