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
  | 'session.ended'
  | 'session.resumed'
  | 'console.login'
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
 * state (a session's end, a detach, a watchdog resume, a `disconnect`, a summary of
 * requests that already ran): when the log is full (`AUDIT_FULL`) they may still take
 * up to `audit.reserveBytes` past `audit.maxFileBytes`. Everything else is refused
 * when full, and an audited request with it. A primary session's start is not reserved
 * (a full log refuses new debug sessions), so opening and closing sessions cannot use
 * the reserve up. A secondary session's start is (`role: 'secondary'`): it is the
 * connection of a subprocess the holder's debug session announced, and that child
 * waits for its debugger, so refusing it would hang the program.
 */
export function isReservedRecord(event: AuditEvent): boolean {
  if (reservedEvents.has(event.event)) return true;
  if (event.event === 'session.opened') return event['role'] === 'secondary';
  return event.event === 'dap.request' && (event['command'] === 'disconnect' || typeof event['repeated'] === 'number');
}

const reservedEvents: ReadonlySet<AuditEventName> = new Set<AuditEventName>(['session.closed', 'session.detached', 'session.takenOver', 'watchdog.resumed', 'audit.throttled']);

/**
 * Requests that let a paused program run or end the session: never refused because
 * of the audit log (full, unavailable, or the session's budget spent), since a
 * refusal would leave a paused debuggee paused. Their record is written when it can
 * be; when it cannot, the request is forwarded all the same and the loss logged and
 * counted (`dbgrelay_audit_unrecorded_total`). Only `disconnect` uses the reserve.
 */
export const resumingCommands: ReadonlySet<string> = new Set([
  'continue',
  'next',
  'stepIn',
  'stepOut',
  'stepBack',
  'reverseContinue',
  'goto',
  'restartFrame',
  'terminate',
  'disconnect',
]);

/** True for the `dap.request` record of one of the {@link resumingCommands}. */
export function isResumingRequest(event: AuditEvent): boolean {
  return event.event === 'dap.request' && typeof event['command'] === 'string' && resumingCommands.has(event['command']) && event['repeated'] === undefined;
}

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
