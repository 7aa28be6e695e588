import type { DebugProtocol } from '@vscode/debugprotocol';
import { bestEffortAuditSink, type AuditSink } from '../audit/auditEvent.js';
import { SessionAuditBudget } from '../audit/sessionAuditBudget.js';
import { SessionTranscript } from '../audit/sessionTranscript.js';
import type { AdapterLink, DapInterceptors, DapPipe, DapPipeCloseReason, DapPipeOptions } from '../dap/dapPipe.js';
import { isRelayError } from '../common/relayError.js';
import { InterceptorChain } from '../dap/interceptorChain.js';
import { echoHeartbeats } from '../liveness/heartbeatEcho.js';
import type { Logger } from '../log/logger.js';
import type { GuardrailMetrics } from '../metrics/guardrailMetrics.js';
import { guardPrefetchEvents } from './prefetchEvents.js';
import { guardAttachArguments } from './attachArguments.js';
import { validateRequests } from './requestValidation.js';
import type { PolicyName } from '../config/guardrailsConfigSchema.js';
import { PauseWatchdog } from './pauseWatchdog.js';
import { PauseState } from './pauseState.js';
import { gateRequests } from './requestGate.js';
import { guardReverseRequests } from './reverseRequestGuard.js';
import { SessionDetacher } from './sessionDetacher.js';
import { relayOutputEvent, relaySeqBase } from './relayMessages.js';
import type { Lease } from './targetLeases.js';
import type { ResumeOutcome, SessionStatus } from './sessionStatus.js';

/** What a {@link GuardedSession} is built from (see `SessionGuards.admit`). */
export interface GuardedSessionOptions {
  /** Short random id of the session (logs, audit, transcript file name). */
  readonly session: string;
  readonly policy: PolicyName;
  /** The policy rules that matched (audit). */
  readonly policyRules: readonly string[];
  readonly lease: Lease;
  /** Whether the client asked for answers sent ahead on each stop and the agent was told the limits. */
  readonly prefetch?: boolean;
  /** Pause watchdog bound for this target; 0 = off. */
  readonly maxPauseMs: number;
  readonly detachTimeoutMs: number;
  /** Relay-wide audit sink. */
  readonly audit: AuditSink;
  /** Fields every record of this session carries (principal, target, client, via). */
  readonly auditFields: Readonly<Record<string, unknown>>;
  readonly maxAuditValueChars: number;
  /** Bounds on what the session writes to the audit log (`audit.maxRecordBytes`, `audit.maxBytesPerSessionPerMinute`). */
  readonly auditBounds: AuditBounds;
  readonly transcripts?: { readonly dir: string; readonly maxBytes: number };
  readonly logger: Logger;
  /** Refusal and watchdog counters of the relay, if it keeps metrics. */
  readonly metrics?: GuardrailMetrics;
}

/** What a {@link GuardedSession} sends its own notices through: its pipe. */
export type SessionNoticeOutlet = Pick<DapPipe, 'sendToClient' | 'nextSeq'>;

/** Bounds on what one session writes to the audit log (config keys of the same names under `audit`). */
export interface AuditBounds {
  readonly maxRecordBytes: number;
  readonly maxBytesPerSessionPerMinute: number;
}

/**
 * The relay's guardrails for one client session, composed on one interceptor chain
 * (forward by default, intercept by name), in this order: the reverse-request guard,
 * the heartbeat echo, request validation (every request toward the adapter, against
 * the DAP schema), the attach-arguments guard (`launch` refused, `attach` keys
 * allow-listed), the policy and audit gate with the target lease's subprocess rule,
 * the pause watchdog, and the detach on client loss (last, so that it sees only the
 * requests every other handler let through). A handler that refuses a request
 * stops the chain, so the ones after it never see it. {@link pipeOptions} hands them
 * to the session's DapPipe; they answer through the pipe's interceptor context, with
 * the relay's own sequence numbers (from `relaySeqBase`).
 */
export class GuardedSession {
  /** The session's pipe, for notices outside any interceptor call (see {@link bind}). */
  private outlet: SessionNoticeOutlet | undefined;
  private readonly watchdog: PauseWatchdog | undefined;
  /** Settles the administrator's resume that waits for debugpy's answer, if one does. */
  private pendingResume: ((outcome: ResumeOutcome) => void) | undefined;
  /** Ends the session (set by {@link onEvict}): the pause watchdog uses it when its `continue` did not resume the debuggee. */
  private end: (() => Promise<void>) | undefined;
  private readonly detacher: SessionDetacher;
  private readonly transcript: SessionTranscript | undefined;
  private readonly interceptors: DapInterceptors;
  /** The session's audit sink: gating records (throws when the log is unavailable, full, or the session's budget spent). */
  readonly audit: AuditSink;
  private readonly auditBudget: SessionAuditBudget;
  private readonly softAudit: AuditSink;
  private readonly openedAt = Date.now();
  private readonly pause: PauseState;

  constructor(private readonly options: GuardedSessionOptions) {
    this.auditBudget = new SessionAuditBudget(options.audit, {
      fields: { session: options.session, ...options.auditFields },
      bytesPerWindow: options.auditBounds.maxBytesPerSessionPerMinute,
      maxRecordBytes: options.auditBounds.maxRecordBytes,
      ...(options.metrics ? { metrics: options.metrics.audit } : {}),
      onError: (error) => options.logger.error({ err: error }, 'audit record lost'),
    });
    this.audit = this.auditBudget;
    this.softAudit = bestEffortAuditSink(this.audit, (error) => options.logger.error({ err: error }, 'audit record lost'));
    const chain = new InterceptorChain();
    const lease = options.lease;
    const metrics = options.metrics;
    guardReverseRequests(chain, {
      audit: this.softAudit,
      onSubprocess: (id) => lease.noteSubprocess(id),
      onRefused: (command) => metrics?.countRefusal('reverseRequests', command),
    });
    echoHeartbeats(chain);
    guardPrefetchEvents(chain, {
      negotiated: options.prefetch === true,
      onForwarded: (answers, bytes) => {
        metrics?.prefetchAnswers.inc(answers);
        metrics?.prefetchBytes.inc(bytes);
      },
    });
    validateRequests(chain, {
      audit: this.softAudit,
      onRefused: (command) => metrics?.countRefusal('schema', command),
    });
    guardAttachArguments(chain, {
      audit: this.softAudit,
      onRefused: (command) => metrics?.countRefusal('attachArguments', command),
    });
    gateRequests(chain, {
      policy: options.policy,
      audit: this.audit,
      maxValueChars: options.maxAuditValueChars,
      extraCheck: (request: DebugProtocol.Request) => lease.refusal(request),
      onRefused: (guard, command) => metrics?.countRefusal(guard, command),
      onAuditRefused: (code) => metrics?.audit.countRefusal(code),
      onAuditLost: (code, command) => {
        options.logger.error({ code, command }, 'audit record lost: the request was forwarded all the same (it resumes the program or ends the session)');
        metrics?.audit.countUnrecorded(code);
      },
    });
    this.pause = new PauseState().attach(chain);
    if (options.maxPauseMs > 0) {
      this.watchdog = new PauseWatchdog(
        {
          maxPauseMs: options.maxPauseMs,
          audit: this.softAudit,
          onResume: () => metrics?.watchdogResumes.inc(),
          answerTimeoutMs: options.detachTimeoutMs,
          onStuck: (why) => this.endStuckPause(why),
        },
        this.pause,
      );
    }
    // Last: only a disconnect or terminate that no guard refused is the client's goodbye.
    this.detacher = new SessionDetacher({ timeoutMs: options.detachTimeoutMs, audit: this.softAudit }).attach(chain);
    this.interceptors = chain.build();
    if (options.transcripts) {
      this.transcript = new SessionTranscript({ dir: options.transcripts.dir, session: options.session, maxBytes: options.transcripts.maxBytes });
    }
  }

  /** Records `session.opened`; throws `AUDIT_UNAVAILABLE` when it cannot (the session must not start). */
  opened(): void {
    const { policy, policyRules, lease, maxPauseMs } = this.options;
    this.audit.record({
      event: 'session.opened',
      policy,
      policyRules,
      role: lease.role,
      maxPauseMs,
      ...(lease.tookOverFrom ? { tookOverFrom: lease.tookOverFrom.principal } : {}),
      ...(this.transcript ? { transcript: this.transcript.file } : {}),
    });
  }

  /** The DapPipe options that install the guardrails; call {@link bind} with the pipe. */
  pipeOptions(): Pick<DapPipeOptions, 'interceptors' | 'ownSeqBase' | 'logger' | 'onClientGone' | 'onFrame' | 'clientProtocolErrorNotice'> {
    return {
      interceptors: this.interceptors,
      ownSeqBase: relaySeqBase,
      logger: this.options.logger,
      clientProtocolErrorNotice: (error, seq) =>
        relayOutputEvent(
          seq,
          `the client sent DAP the relay cannot forward safely (${isRelayError(error) ? `${error.code}: ` : ''}${error.message}); the relay ends this session and detaches the debugger, the program keeps running`,
        ),
      onClientGone: async (adapter: AdapterLink) => {
        this.watchdog?.dispose();
        this.options.lease.clientGone();
        const outcome = await this.detacher.detach(adapter);
        if (outcome !== 'notAttached' && outcome !== 'clientDisconnected') this.options.logger.info({ outcome }, 'detached the debugger after client loss');
      },
      ...(this.transcript ? { onFrame: (direction, body, origin) => this.transcript!.add(direction, body, origin) } : {}),
    };
  }

  /** The pause bound of this session (0: none). */
  get maxPauseMs(): number {
    return this.options.maxPauseMs;
  }

  /** What the web console shows of the session: its policy, since when it runs, since when its debuggee is stopped. */
  get status(): SessionStatus {
    const pausedSince = this.pause.pausedSince;
    return { policy: this.options.policy, openedAt: this.openedAt, ...(pausedSince !== undefined ? { pausedSince } : {}) };
  }

  /**
   * Resumes a stopped debuggee on behalf of `by` (an administrator's principal id) and
   * tells the client; settles with debugpy's answer: `resumed` (then `session.resumed`
   * is recorded), `refused` (debugpy refused the `continue`, or did not answer within
   * `sessions.detachTimeoutMs`, or the session ended first), `notStopped` (nothing
   * sent), `busy` (an earlier resume still waits for its answer).
   */
  resume(by: string): Promise<ResumeOutcome> {
    if (this.pendingResume) return Promise.resolve('busy');
    const pausedSince = this.pause.pausedSince;
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (outcome: ResumeOutcome): void => {
        if (this.pendingResume !== settle) return;
        this.pendingResume = undefined;
        clearTimeout(timer);
        resolve(outcome);
      };
      this.pendingResume = settle;
      const sent = this.pause.resume(`${by} resumed the program from the web console`, (resumed) => {
        if (resumed) {
          // The record names who acted (principal) and whose session it was (holder).
          this.softAudit.record({ event: 'session.resumed', principal: by, holder: this.options.auditFields['principal'], pausedMs: Date.now() - (pausedSince ?? Date.now()) });
        }
        settle(resumed ? 'resumed' : 'refused');
      });
      if (!sent) {
        settle('notStopped');
        return;
      }
      timer = setTimeout(() => settle('refused'), this.options.detachTimeoutMs);
      timer.unref?.();
    });
  }

  /** Connects the session's own notices ({@link notify}, the takeover notice) to its pipe; until then they are dropped. */
  bind(pipe: SessionNoticeOutlet): void {
    this.outlet = pipe;
  }

  /** Sends the client an `output` event of the relay's own (e.g. the shutdown notice of a drain). */
  notify(text: string, category: 'important' | 'console' = 'important'): void {
    const outlet = this.outlet;
    outlet?.sendToClient(relayOutputEvent(outlet.nextSeq('toClient'), text, category));
  }

  /**
   * Sets how the session is ended when an admin takes the target over; the client is
   * told why first.
   */
  onEvict(end: () => Promise<void>): void {
    this.end = end;
    this.options.lease.onEvict(() => {
      this.notify('an administrator took this target over; this session is being detached');
      return end();
    });
  }

  /**
   * The pause watchdog's `continue` did not resume the debuggee (`why`): the session
   * ends, and its detach resumes the program (debugpy's `disconnect`; if debugpy does
   * not answer that either, the adapter's connection closes and the guard inside the
   * debuggee resumes it). Without an end set by {@link onEvict} (a session not yet
   * started), nothing more can be done here.
   */
  private endStuckPause(why: string): void {
    this.options.logger.warn({ why }, 'the pause watchdog could not resume the debuggee; ending the session so that the detach resumes it');
    this.notify(`${why}; the relay ends this session so that the debugger detaches and the program runs on`);
    void this.end?.();
  }

  /** The session ended: records `session.closed`, stops the watchdog, releases the lease. */
  closed(reason: DapPipeCloseReason): void {
    this.pendingResume?.('refused');
    this.watchdog?.dispose();
    this.auditBudget.close(); // aggregated counts first: session.closed is the session's last record
    this.softAudit.record({
      event: 'session.closed',
      closedBy: reason.closedBy,
      durationMs: Date.now() - this.openedAt,
      ...(reason.error ? { reason: reason.error.message } : {}),
    });
    void this.transcript?.close();
    this.options.lease.release();
  }

  /** The session never started (the client left, or the agent could not open it). */
  abandon(): void {
    this.auditBudget.close();
    void this.transcript?.close();
    this.options.lease.release();
  }
}
