/**
 * What the audit log records (docs/operations.md "Audit"): one JSON object per line.
 * Every event carries `time` (ISO 8601, added by the writer) and `event`; session
 * events carry `session`, `principal` and `target`. No event carries a credential.
 */
export type AuditEventName =
  | 'session.opened'
  | 'session.closed'
  | 'session.refused'
  | 'session.detached'
  | 'session.takenOver'
  | 'dap.request'
  | 'dap.refused'
  | 'dap.subprocess'
  | 'watchdog.resumed'
  | 'guard.resumed'
  | 'audit.throttled';

/** One audit record before the writer adds `time`. */
export interface AuditEvent {
  readonly event: AuditEventName;
  readonly [field: string]: unknown;
}

/**
 * Where audit records go. {@link record} returns only once the line is written (and,
 * with `audit.sync`, on disk); it throws `AUDIT_UNAVAILABLE` when it cannot be, so the
 * caller refuses what it was about to allow.
 */
export interface AuditSink {
  record(event: AuditEvent): void;
}

/**
 * Records that describe something already done or that must happen whatever the log's
 * state (a session's start and end, a detach, a watchdog resume, a `disconnect`, a summary of
 * requests that already ran): when the log is full (`AUDIT_FULL`) they may still take
 * up to `audit.reserveBytes` past `audit.maxFileBytes`. Everything else is refused
 * when full, and an audited request with it.
 */
export function isReservedRecord(event: AuditEvent): boolean {
  if (reservedEvents.has(event.event)) return true;
  return event.event === 'dap.request' && (event['command'] === 'disconnect' || typeof event['repeated'] === 'number');
}

const reservedEvents: ReadonlySet<AuditEventName> = new Set<AuditEventName>([
  'session.opened',
  'session.closed',
  'session.detached',
  'session.takenOver',
  'watchdog.resumed',
  'audit.throttled',
]);

/** An {@link AuditSink} that drops everything (`audit.enabled: false`, tests). */
export const discardingAuditSink: AuditSink = Object.freeze({ record: () => undefined });

/** An {@link AuditSink} that adds the same fields (session, principal, target) to every record. */
export function withAuditFields(sink: AuditSink, fields: Readonly<Record<string, unknown>>): AuditSink {
  return {
    record: ({ event, ...rest }) => sink.record({ event, ...fields, ...rest }),
  };
}

/**
 * An {@link AuditSink} for records that must not stop what they describe (a watchdog
 * resume, a detach, a refusal): a failure is reported to `onError` and swallowed.
 */
export function bestEffortAuditSink(sink: AuditSink, onError: (error: unknown) => void): AuditSink {
  return {
    record: (event) => {
      try {
        sink.record(event);
      } catch (error) {
        onError(error);
      }
    },
  };
}
