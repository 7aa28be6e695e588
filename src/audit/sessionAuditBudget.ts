import { RelayError } from '../common/relayError.js';
import type { AuditMetrics } from '../metrics/auditMetrics.js';
import { isReservedRecord, isResumingRequest, type AuditEvent, type AuditSink } from './auditEvent.js';
import { auditTimeBytes, boundAuditEvent } from './auditRecordBounds.js';

/**
 * The window of a session's audit budget: a minute, because the budget's key is
 * `audit.maxBytesPerSessionPerMinute` (tests shorten it with `windowMs`).
 */
export const auditBudgetWindowMs = 60_000;

/** Options of a {@link SessionAuditBudget}. */
export interface SessionAuditBudgetOptions {
  /** Fields every record of the session carries (session, principal, target, ...). */
  readonly fields: Readonly<Record<string, unknown>>;
  /** Bytes of records the session may write per window, and its burst (`audit.maxBytesPerSessionPerMinute`). */
  readonly bytesPerWindow: number;
  /** Bound on one record, `time` included (`audit.maxRecordBytes`). */
  readonly maxRecordBytes: number;
  /** The budget's window (default one minute): it refills `bytesPerWindow` over it, and aggregated counts are written at its end. */
  readonly windowMs?: number;
  /** Refusal, aggregation and truncation counters. */
  readonly metrics?: AuditMetrics;
  /** Called when an aggregated line could not be written. */
  readonly onError: (error: unknown) => void;
  /** The clock (tests). */
  readonly now?: () => number;
}

/** The records a client's messages cause, one per message: the ones the budget holds back. */
const budgetedEvents: ReadonlySet<string> = new Set(['dap.request', 'dap.refused']);

/** Distinct identical-record groups one session may have waiting for their `repeated` line. */
const maxPendingGroups = 16;
/** Digests of records written in full that a later identical record may be aggregated with. */
const maxRememberedDigests = 256;

interface Pending {
  readonly event: AuditEvent;
  count: number;
  readonly since: number;
}

/**
 * The audit sink of one session: adds the session's fields to each record, cuts it to
 * `maxRecordBytes`, and bounds what the session writes with a token bucket of
 * `bytesPerWindow` per window, so that one client cannot flush the log. Records of the
 * client's DAP messages (`dap.request`, `dap.refused`) past the budget are:
 *
 * - aggregated when identical to one the session already wrote in full: not written
 *   one by one, but as one copy with `repeated: N` and `since` at the window's end (or
 *   when the session ends);
 * - otherwise, for a request (`dap.request`), refused with `AUDIT_THROTTLED`, so the
 *   request is refused too and never runs unaudited; for a refusal record
 *   (`dap.refused`, the message was refused anyway) or a request that resumes the
 *   program (`resumingCommands`, never refused: it is forwarded unrecorded), counted
 *   and summed up in one `audit.throttled` line at the window's end.
 *
 * A request record that could be written only by cutting or dropping code it carries
 * (`maxRecordBytes`) is refused with `AUDIT_RECORD_TOO_LARGE`, whatever the budget.
 * A `disconnect` and the session's other records (opened, closed, detached, watchdog,
 * subprocess) are never held back; their bytes count against the budget all the same.
 */
export class SessionAuditBudget implements AuditSink {
  private tokens: number;
  private refilledAt: number;
  private readonly windowMs: number;
  private readonly written = new Map<string, true>();
  private readonly pending = new Map<string, Pending>();
  private refused = 0;
  private dropped = 0;
  private unrecordedResumes = 0;
  private throttledSince: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sink: AuditSink,
    private readonly options: SessionAuditBudgetOptions,
  ) {
    this.windowMs = options.windowMs ?? auditBudgetWindowMs;
    this.tokens = options.bytesPerWindow;
    this.refilledAt = this.now();
  }

  /** Writes, aggregates or refuses `event` (see the class); throws what the sink throws, `AUDIT_RECORD_TOO_LARGE` or `AUDIT_THROTTLED`. */
  record({ event: name, ...rest }: AuditEvent): void {
    const full: AuditEvent = { event: name, ...this.options.fields, ...rest };
    const bounded = boundAuditEvent(full, this.options.maxRecordBytes - auditTimeBytes);
    if (bounded.codeCut && name === 'dap.request') {
      throw new RelayError('AUDIT_RECORD_TOO_LARGE', `the request's record would not show all its code within audit.maxRecordBytes (${this.options.maxRecordBytes} bytes)`);
    }
    if (bounded.event !== full) this.options.metrics?.truncated.inc();
    this.refill();
    const budgeted = budgetedEvents.has(name) && !isReservedRecord(full);
    if (!budgeted || this.tokens >= bounded.bytes) {
      this.sink.record(bounded.event);
      this.tokens -= bounded.bytes;
      if (budgeted) this.remember(bounded.digest);
      return;
    }
    const pending = this.pending.get(bounded.digest);
    if (pending !== undefined || (this.written.has(bounded.digest) && this.pending.size < maxPendingGroups)) {
      if (pending !== undefined) pending.count++;
      else this.pending.set(bounded.digest, { event: bounded.event, count: 1, since: this.now() });
      this.options.metrics?.aggregated.inc();
      this.scheduleFlush();
      return;
    }
    this.throttledSince ??= this.now();
    this.scheduleFlush();
    if (isResumingRequest(full)) {
      this.unrecordedResumes++;
      this.options.metrics?.countUnrecorded('AUDIT_THROTTLED');
      return;
    }
    if (name !== 'dap.request') {
      this.dropped++;
      this.options.metrics?.dropped.inc();
      return;
    }
    this.refused++;
    throw new RelayError(
      'AUDIT_THROTTLED',
      `this session wrote more audit records than audit.maxBytesPerSessionPerMinute (${this.options.bytesPerWindow} bytes per ${this.windowMs / 1000} s) allows`,
    );
  }

  /** Writes what is waiting (aggregated counts, the throttling summary); call when the session ends. */
  close(): void {
    this.flush();
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private refill(): void {
    const now = this.now();
    const { bytesPerWindow } = this.options;
    this.tokens = Math.min(bytesPerWindow, this.tokens + ((now - this.refilledAt) * bytesPerWindow) / this.windowMs);
    this.refilledAt = now;
  }

  private remember(digest: string): void {
    this.written.delete(digest);
    this.written.set(digest, true);
    if (this.written.size > maxRememberedDigests) this.written.delete(this.written.keys().next().value!);
  }

  private scheduleFlush(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => this.flush(), this.windowMs);
    this.timer.unref();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const lines: AuditEvent[] = [...this.pending.values()].map(({ event, count, since }) => ({ ...event, repeated: count, since: new Date(since).toISOString() }));
    if (this.refused > 0 || this.dropped > 0 || this.unrecordedResumes > 0) {
      lines.push({
        event: 'audit.throttled',
        ...this.options.fields,
        refusedRequests: this.refused,
        unrecordedRefusals: this.dropped,
        unrecordedResumes: this.unrecordedResumes,
        since: new Date(this.throttledSince ?? this.now()).toISOString(),
        maxBytesPerMinute: Math.round((this.options.bytesPerWindow * 60_000) / this.windowMs),
      });
    }
    this.pending.clear();
    this.refused = 0;
    this.dropped = 0;
    this.unrecordedResumes = 0;
    this.throttledSince = undefined;
    for (const line of lines) {
      try {
        this.sink.record(line);
        this.tokens -= Buffer.byteLength(JSON.stringify(line));
      } catch (error) {
        this.options.onError(error);
      }
    }
  }
}
