import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Why an audited request was refused because of the audit log, the `reason` label of
 * `dbgrelay_audit_refusals_total`: `full` (`AUDIT_FULL`: rotation would delete records
 * younger than `audit.minRetentionMs`), `rate` (`AUDIT_THROTTLED`: the session's
 * `audit.maxBytesPerSessionPerMinute` is spent), `unavailable` (`AUDIT_UNAVAILABLE`:
 * the file cannot be written), `size` (`AUDIT_RECORD_TOO_LARGE`: the record would cut
 * code the request carries; `dbgrelay_audit_refusals_total` only).
 */
export const auditRefusalReasons = ['full', 'rate', 'unavailable', 'size'] as const;

/** A value of {@link auditRefusalReasons}. */
export type AuditRefusalReason = (typeof auditRefusalReasons)[number];

/** Metrics of the audit log (docs/operations.md "Metrics"), in one relay's registry. */
export class AuditMetrics {
  /** `dbgrelay_audit_refusals_total{reason}`: audited requests refused because their record could not be written. */
  readonly refusals: Counter<'reason'>;
  /** `dbgrelay_audit_full`: 1 while the log is full (a record was refused with `AUDIT_FULL` and no rotation since). */
  readonly full: Gauge;
  /** `dbgrelay_audit_aggregated_total`: records not written one by one but counted in a `repeated` line. */
  readonly aggregated: Counter;
  /** `dbgrelay_audit_truncated_total`: records cut to `audit.maxRecordBytes`. */
  readonly truncated: Counter;
  /** `dbgrelay_audit_dropped_total`: refusal records a throttled session did not get written one by one (counted in its `audit.throttled` line). */
  readonly dropped: Counter;
  /** `dbgrelay_audit_unrecorded_total{reason}`: requests that resume the program, forwarded without their record (never refused for the audit log's sake). */
  readonly unrecorded: Counter<'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.refusals = new Counter({
      name: 'dbgrelay_audit_refusals_total',
      help: 'Audited DAP requests refused because their audit record could not be written, by reason (full, rate, unavailable).',
      labelNames: ['reason'] as const,
      registers,
    });
    for (const reason of auditRefusalReasons) this.refusals.inc({ reason }, 0);
    this.full = new Gauge({
      name: 'dbgrelay_audit_full',
      help: '1 while the audit log is full: rotating would delete records younger than audit.minRetentionMs, so audited requests are refused.',
      registers,
    });
    this.aggregated = new Counter({
      name: 'dbgrelay_audit_aggregated_total',
      help: 'Identical audit records of a session past its byte budget, written as one line with a repeated count instead of one by one.',
      registers,
    });
    this.truncated = new Counter({
      name: 'dbgrelay_audit_truncated_total',
      help: 'Audit records cut to audit.maxRecordBytes.',
      registers,
    });
    this.dropped = new Counter({
      name: 'dbgrelay_audit_dropped_total',
      help: 'Refusal records of a session past its byte budget, counted in its audit.throttled line instead of written one by one.',
      registers,
    });
    this.unrecorded = new Counter({
      name: 'dbgrelay_audit_unrecorded_total',
      help: 'Requests that resume the debuggee or end the session (continue, steps, disconnect, ...), forwarded without their audit record, by reason (full, rate, unavailable).',
      labelNames: ['reason'] as const,
      registers,
    });
    for (const reason of ['full', 'rate', 'unavailable'] as const) this.unrecorded.inc({ reason }, 0);
  }

  /** Counts an audited request refused because its record could not be written (error code `AUDIT_*`). */
  countRefusal(code: string): void {
    this.refusals.inc({ reason: reasonOf(code) });
  }

  /** Counts a resuming request forwarded without its record (error code `AUDIT_*`). */
  countUnrecorded(code: string): void {
    this.unrecorded.inc({ reason: reasonOf(code) });
  }
}

function reasonOf(code: string): AuditRefusalReason {
  if (code === 'AUDIT_RECORD_TOO_LARGE') return 'size';
  return code === 'AUDIT_FULL' ? 'full' : code === 'AUDIT_THROTTLED' ? 'rate' : 'unavailable';
}
