import type { DebugProtocol } from '@vscode/debugprotocol';
import { resumingCommands, type AuditSink } from '../audit/auditEvent.js';
import { auditedCommands, auditFieldsCutCode, auditFieldsOf } from '../audit/auditedRequests.js';
import { isRelayError, RelayError } from '../common/relayError.js';
import type { InterceptorChain } from '../dap/interceptorChain.js';
import { policedCommands, policyRefusal } from './dapPolicy.js';
import type { PolicyName } from '../config/guardrailsConfigSchema.js';

/** Options of {@link gateRequests}. */
export interface RequestGateOptions {
  readonly policy: PolicyName;
  /** The session's audit sink; a record that cannot be written refuses the request. */
  readonly audit: AuditSink;
  /** Bound on each string field of an audit record (config `audit.maxValueChars`). */
  readonly maxValueChars: number;
  /** Extra check of a request (e.g. the target lease's rule for subprocess attaches); returns a refusal reason. */
  readonly extraCheck?: (request: DebugProtocol.Request) => string | undefined;
  /** Called for each refusal with what refused it (the policy's name, or `exclusive` for `extraCheck`) (metrics). */
  readonly onRefused?: (guard: string, command: string) => void;
  /** Called for each request refused because its record could not be written, with the error code (`AUDIT_*`) (metrics). */
  readonly onAuditRefused?: (code: AuditErrorCode) => void;
  /** Called for each request that resumes the program (or ends the session) forwarded without its record, with the error code (log, metrics). */
  readonly onAuditLost?: (code: AuditErrorCode, command: string) => void;
}

/** Why an audit record could not be written, and what the client is told. */
const auditRefusals = {
  AUDIT_UNAVAILABLE: 'the audit log is unavailable',
  AUDIT_FULL: "the relay's audit log is full (AUDIT_FULL): it keeps every record for audit.minRetentionMs; an operator must move old audit files away",
  AUDIT_THROTTLED: 'this session wrote more audit records than audit.maxBytesPerSessionPerMinute allows (AUDIT_THROTTLED); retry in a minute',
  AUDIT_RECORD_TOO_LARGE:
    'its audit record could not show all the code it carries (AUDIT_RECORD_TOO_LARGE): each expression, condition, hit condition, log message or value may have at most audit.maxValueChars characters, and the whole record at most audit.maxRecordBytes bytes; send shorter ones or fewer breakpoints per request',
} as const;

/** The error codes of an audit record that could not be written. */
export type AuditErrorCode = keyof typeof auditRefusals;

function auditErrorCode(error: unknown): AuditErrorCode | undefined {
  return isRelayError(error) && Object.hasOwn(auditRefusals, error.code) ? (error.code as AuditErrorCode) : undefined;
}

/**
 * The `toAdapter` gate of a relay session: for each request the policy may refuse or
 * the audit log records (and nothing else: forward by default, intercept by name):
 *
 * 1. a request the session's policy refuses gets a DAP error response naming the
 *    policy (`refused by policy "no-eval": evaluate runs code in the debuggee`), is
 *    recorded as `dap.refused` (with the fields an allowed request's record has, e.g.
 *    the `evaluate` expression) and never reaches the adapter;
 * 2. an audited request is recorded as `dap.request` before it is forwarded; when the
 *    record cannot be written (the log is unavailable, full, or the session's budget
 *    is spent) the request is refused and never runs unaudited, except a request that
 *    resumes the program or ends the session (`resumingCommands`: `continue`, steps,
 *    `disconnect`, ...), which is forwarded all the same ({@link RequestGateOptions.onAuditLost}):
 *    a refusal would leave a paused debuggee paused;
 * 3. an audited request whose record would cut or drop code it carries (an expression,
 *    condition, log message or value longer than `audit.maxValueChars`, or breakpoints
 *    past `audit.maxRecordBytes`) is refused (`AUDIT_RECORD_TOO_LARGE`) and recorded as
 *    `dap.refused`: what runs is always what the record says.
 */
export function gateRequests(chain: InterceptorChain, options: RequestGateOptions): void {
  const { audit, policy } = options;
  const names = [...new Set([...policedCommands, ...auditedCommands, ...(options.extraCheck ? ['attach'] : [])])];
  chain.add('toAdapter', names, (message, context) => {
    if (message.type !== 'request') return undefined;
    const request = message as DebugProtocol.Request;
    const extra = options.extraCheck?.(request);
    const reason = extra ?? withPolicy(policy, policyRefusal(policy, request));
    if (reason !== undefined) {
      options.onRefused?.(extra !== undefined ? 'exclusive' : policy, request.command);
      try {
        const fields = auditFieldsOf(request, options.maxValueChars);
        audit.record({ event: 'dap.refused', direction: 'toAdapter', ...fields, command: request.command, policy, reason });
      } catch {
        // The refusal stands whether or not it could be recorded.
      }
      return context.refuse(request, reason);
    }
    const fields = auditFieldsOf(request, options.maxValueChars);
    if (fields === undefined) return undefined;
    try {
      if (auditFieldsCutCode(request, fields)) throw new RelayError('AUDIT_RECORD_TOO_LARGE', `code longer than audit.maxValueChars (${options.maxValueChars})`);
      audit.record({ event: 'dap.request', ...fields });
    } catch (error) {
      const code = auditErrorCode(error);
      if (code === undefined) throw error;
      // Resuming and leaving are never refused: a refusal would leave a paused debuggee paused.
      if (resumingCommands.has(request.command)) {
        options.onAuditLost?.(code, request.command);
        return undefined;
      }
      options.onAuditRefused?.(code);
      const reason = `${request.command} refused: ${auditRefusals[code]}`;
      if (code === 'AUDIT_RECORD_TOO_LARGE') {
        try {
          audit.record({ event: 'dap.refused', direction: 'toAdapter', ...fields, reason });
        } catch {
          // The refusal stands whether or not it could be recorded.
        }
      }
      return context.refuse(request, reason);
    }
    return undefined;
  });
}

function withPolicy(policy: PolicyName, reason: string | undefined): string | undefined {
  return reason === undefined ? undefined : `refused by policy "${policy}": ${reason}`;
}
