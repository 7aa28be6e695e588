import { join } from 'node:path';
import { AuditLog } from '../audit/auditLog.js';
import { auditLogFile } from '../audit/auditReader.js';
import { discardingAuditSink, type AuditSink } from '../audit/auditEvent.js';
import type { Principal } from '../auth/principal.js';
import { targetPatternCovers } from '../auth/grants.js';
import { maxTargetNameChars } from '../protocol/targetName.js';
import { RelayError } from '../common/relayError.js';
import type { RelayConfig } from '../config/configSchema.js';
import type { Logger } from '../log/logger.js';
import type { GuardrailMetrics } from '../metrics/guardrailMetrics.js';
import { GuardedSession, type AuditBounds } from './guardedSession.js';
import { resolvePolicy, type PolicyConfig } from './policyResolver.js';
import { TargetLeases } from './targetLeases.js';

/** Relay-wide settings of the session guardrails (config keys `policies`, `pauseWatchdog`, `sessions`, `audit`). */
export interface SessionGuardsOptions {
  readonly policies: PolicyConfig;
  readonly pauseWatchdog: { readonly maxPauseMs: number; readonly targets: Readonly<Record<string, number>> };
  readonly sessions: { readonly exclusive: boolean; readonly detachTimeoutMs: number; readonly takeoverTimeoutMs: number };
  readonly audit: AuditSink;
  readonly maxAuditValueChars: number;
  readonly auditBounds: AuditBounds;
  readonly transcripts?: { readonly dir: string; readonly maxBytes: number };
  readonly logger: Logger;
  /** Called on close (e.g. to close the audit file). */
  readonly onClose?: () => void;
  /** The relay's refusal and watchdog counters. */
  readonly metrics?: GuardrailMetrics;
}

/** Who asks for a session, as the broker knows it. */
export interface SessionSubject {
  readonly session: string;
  readonly principal: Principal;
  readonly target: string;
  readonly via: 'wss' | 'tcps';
  readonly clientAddress: string;
  /** An admin asks to take the target over from its current holder. */
  readonly takeover?: boolean;
  /** The target server's own kill timer (its agent's `killTimer`), in ms. */
  readonly killTimerMs?: number;
  /** The agent was asked to send answers ahead on each stop (docs/protocol.md §6). */
  readonly prefetch?: boolean;
}

/** How long before a server's kill timer the pause watchdog resumes its worker: at least 2 s, or a tenth of the timer. */
export function killTimerMarginMs(killTimerMs: number): number {
  return Math.max(2_000, Math.round(killTimerMs / 10));
}

/**
 * The pause bound of a session: the configured bound (0: none), or, when the target's
 * server kills a worker that stops answering (gunicorn `--timeout`, Celery
 * `task_time_limit`), a bound that resumes the worker before that, whichever is shorter.
 */
export function effectiveMaxPauseMs(configuredMs: number, killTimerMs: number | undefined): number {
  if (killTimerMs === undefined) return configuredMs;
  const beforeKill = Math.max(1_000, killTimerMs - killTimerMarginMs(killTimerMs));
  return configuredMs > 0 ? Math.min(configuredMs, beforeKill) : beforeKill;
}

/**
 * The relay's production guardrails, one instance per relay: target
 * leases (one debugger per target), policy resolution, the pause watchdog's bound and
 * the audit log. {@link admit} turns a session request into a {@link GuardedSession}.
 */
export class SessionGuards {
  private readonly leases: TargetLeases;

  constructor(private options: SessionGuardsOptions) {
    this.leases = new TargetLeases(options.sessions.exclusive);
  }

  /** Guardrails from the relay configuration; opens the audit log (`<dataDir>/audit.log` by default). */
  static fromConfig(config: RelayConfig, logger: Logger, metrics?: GuardrailMetrics): SessionGuards {
    const { audit } = config;
    let sink: AuditSink = discardingAuditSink;
    let log: AuditLog | undefined;
    if (audit.enabled) {
      const file = auditLogFile(config);
      try {
        log = new AuditLog({
          file,
          sync: audit.sync,
          maxFileBytes: audit.maxFileBytes,
          maxFiles: audit.maxFiles,
          minRetentionMs: audit.minRetentionMs,
          reserveBytes: audit.reserveBytes,
          maxRecordBytes: audit.maxRecordBytes,
          onError: (error) => logger.error({ err: error, file }, 'audit log write failed'),
          onFull: (full) => {
            metrics?.audit.full.set(full ? 1 : 0);
            if (full)
              logger.error(
                { file, minRetentionMs: audit.minRetentionMs },
                'audit log full: rotating would delete records younger than audit.minRetentionMs; audited requests are refused until the oldest rotated file is moved away or ages',
              );
            else logger.info({ file }, 'audit log rotates again');
          },
          ...(metrics ? { onTruncated: () => metrics.audit.truncated.inc() } : {}),
        });
      } catch (error) {
        throw new RelayError('CONFIG_INVALID', `audit.file: cannot open ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      sink = log;
    }
    return new SessionGuards({
      policies: config.policies,
      pauseWatchdog: config.pauseWatchdog,
      sessions: config.sessions,
      audit: sink,
      maxAuditValueChars: audit.maxValueChars,
      auditBounds: { maxRecordBytes: audit.maxRecordBytes, maxBytesPerSessionPerMinute: audit.maxBytesPerSessionPerMinute },
      ...(audit.transcripts.enabled ? { transcripts: { dir: audit.transcripts.dir ?? join(config.dataDir, 'transcripts'), maxBytes: audit.transcripts.maxBytes } } : {}),
      logger,
      onClose: () => log?.close(),
      ...(metrics ? { metrics } : {}),
    });
  }

  /** No policy, no exclusivity, no watchdog, no audit: forwards everything (tests, embedding). */
  static permissive(logger: Logger): SessionGuards {
    return new SessionGuards({
      policies: { default: 'full', targets: {}, principals: {} },
      pauseWatchdog: { maxPauseMs: 0, targets: {} },
      sessions: { exclusive: false, detachTimeoutMs: 5_000, takeoverTimeoutMs: 10_000 },
      audit: discardingAuditSink,
      maxAuditValueChars: 4096,
      auditBounds: { maxRecordBytes: 1024 * 1024, maxBytesPerSessionPerMinute: 2 ** 40 },
      logger,
    });
  }

  /** The pause bound of `target`: the smallest non-zero matching `pauseWatchdog.targets` rule, else `maxPauseMs`. */
  maxPauseMsFor(target: string): number {
    const matching = Object.entries(this.options.pauseWatchdog.targets)
      .filter(([pattern]) => targetPatternCovers(pattern, target))
      .map(([, ms]) => ms);
    if (matching.length === 0) return this.options.pauseWatchdog.maxPauseMs;
    const nonZero = matching.filter((ms) => ms > 0);
    return nonZero.length > 0 ? Math.min(...nonZero) : 0;
  }

  /** Throws the `TARGET_BUSY` that {@link admit} would throw for `subject` now, taking nothing. */
  checkLease(subject: Pick<SessionSubject, 'principal' | 'target' | 'takeover'>): void {
    this.leases.check(subject.target, subject.principal.id, { ...(subject.takeover !== undefined ? { takeover: subject.takeover } : {}), admin: subject.principal.grants.admin });
  }

  /**
   * Admits a session: takes a share of the target's lease (throws `TARGET_BUSY`, or
   * ends the holder's sessions first on an admin takeover) and resolves its policy.
   */
  async admit(subject: SessionSubject, logger: Logger): Promise<GuardedSession> {
    const { principal, target } = subject;
    const lease = await this.leases.acquire(target, principal.id, {
      ...(subject.takeover !== undefined ? { takeover: subject.takeover } : {}),
      admin: principal.grants.admin,
      evictTimeoutMs: this.options.sessions.takeoverTimeoutMs,
    });
    const auditFields = { principal: principal.id, method: principal.method, target, via: subject.via, client: subject.clientAddress };
    if (lease.tookOverFrom) {
      this.record({ event: 'session.takenOver', session: subject.session, ...auditFields, from: lease.tookOverFrom.principal, heldSince: lease.tookOverFrom.since.toISOString() });
    }
    const { policy, because } = resolvePolicy(this.options.policies, principal.id, target);
    return new GuardedSession({
      session: subject.session,
      policy,
      policyRules: because,
      lease,
      maxPauseMs: effectiveMaxPauseMs(this.maxPauseMsFor(target), subject.killTimerMs),
      ...(subject.prefetch ? { prefetch: true } : {}),
      detachTimeoutMs: this.options.sessions.detachTimeoutMs,
      audit: this.options.audit,
      auditFields,
      maxAuditValueChars: this.options.maxAuditValueChars,
      auditBounds: this.options.auditBounds,
      ...(this.options.transcripts ? { transcripts: this.options.transcripts } : {}),
      ...(this.options.metrics ? { metrics: this.options.metrics } : {}),
      logger,
    });
  }

  /**
   * Applies a reloaded configuration's `policies`, `pauseWatchdog` and
   * `sessions.detachTimeoutMs`/`takeoverTimeoutMs` to sessions admitted from now on;
   * running sessions keep what they were admitted with. `sessions.exclusive` and
   * `audit.*` need a restart (relayReloader.ts) and are kept.
   */
  reconfigure(config: RelayConfig): void {
    const { exclusive } = this.options.sessions;
    this.options = { ...this.options, policies: config.policies, pauseWatchdog: config.pauseWatchdog, sessions: { ...config.sessions, exclusive } };
  }

  /** Records a refused session (best effort: the refusal stands either way). */
  recordRefusal(subject: SessionSubject, code: string, message: string): void {
    const { principal } = subject;
    this.record({
      event: 'session.refused',
      session: subject.session,
      principal: principal.id,
      method: principal.method,
      target: subject.target.slice(0, maxTargetNameChars),
      via: subject.via,
      client: subject.clientAddress,
      code,
      reason: message,
    });
  }

  /** Records an administrator's action on a session (best effort: the action happens either way). */
  recordAdminAction(event: Parameters<AuditSink['record']>[0]): void {
    this.record(event);
  }

  /** The audit log, for records that belong to no session (e.g. `guard.resumed`). */
  get audit(): AuditSink {
    return this.options.audit;
  }

  /** Bound on the detach of one session (config `sessions.detachTimeoutMs`). */
  get detachTimeoutMs(): number {
    return this.options.sessions.detachTimeoutMs;
  }

  /** Closes the audit log. */
  close(): void {
    this.options.onClose?.();
  }

  private record(event: Parameters<AuditSink['record']>[0]): void {
    try {
      this.options.audit.record(event);
    } catch (error) {
      this.options.logger.error({ err: error }, 'audit record lost');
    }
  }
}
