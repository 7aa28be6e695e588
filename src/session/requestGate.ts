import type { DebugProtocol } from '@vscode/debugprotocol';
import type { AuditSink } from '../audit/auditEvent.js';
import { auditedCommands, auditFieldsOf } from '../audit/auditedRequests.js';
import { isRelayError } from '../common/relayError.js';
import type { InterceptorChain } from '../dap/interceptorChain.js';
import { policedCommands, policyRefusal, type PolicyName } from './dapPolicy.js';
import { refusalResponse, type SessionLink } from './sessionLink.js';

/** Options of {@link gateRequests}. */
export interface RequestGateOptions {
  readonly policy: PolicyName;
  readonly link: SessionLink;
  /** The session's audit sink; a record that cannot be written refuses the request. */
  readonly audit: AuditSink;
  /** Bound on each string field of an audit record (config `audit.maxValueChars`). */
  readonly maxValueChars: number;
  /** Extra check of a request (e.g. the target lease's rule for subprocess attaches); returns a refusal reason. */
  readonly extraCheck?: (request: DebugProtocol.Request) => string | undefined;
  /** Called for each refusal with what refused it (the policy's name, or `exclusive` for `extraCheck`) (metrics). */
  readonly onRefused?: (guard: string, command: string) => void;
}

/**
 * The `toAdapter` gate of a relay session: for each request the policy may refuse or
 * the audit log records (and nothing else, style.md "intercept by name"):
 *
 * 1. a request the session's policy refuses gets a DAP error response naming the
 *    policy (`refused by policy "no-eval": evaluate runs code in the debuggee`), is
 *    recorded as `dap.refused` and never reaches the adapter;
 * 2. an audited request is recorded as `dap.request` before it is forwarded; when the
 *    record cannot be written the request is refused (`audit log unavailable`).
 */
export function gateRequests(chain: InterceptorChain, options: RequestGateOptions): void {
  const { link, audit, policy } = options;
  const answer = (request: DebugProtocol.Request, reason: string): null => {
    link.sendToClient(refusalResponse(request, link.nextSeq(), reason));
    return null;
  };
  const names = [...new Set([...policedCommands, ...auditedCommands, ...(options.extraCheck ? ['attach'] : [])])];
  chain.add('toAdapter', names, (message) => {
    if (message.type !== 'request') return undefined;
    const request = message as DebugProtocol.Request;
    const extra = options.extraCheck?.(request);
    const reason = extra ?? withPolicy(policy, policyRefusal(policy, request));
    if (reason !== undefined) {
      options.onRefused?.(extra !== undefined ? 'exclusive' : policy, request.command);
      try {
        audit.record({ event: 'dap.refused', direction: 'toAdapter', command: request.command, policy, reason });
      } catch {
        // The refusal stands whether or not it could be recorded.
      }
      return answer(request, reason);
    }
    const fields = auditFieldsOf(request, options.maxValueChars);
    if (fields === undefined) return undefined;
    try {
      audit.record({ event: 'dap.request', ...fields });
    } catch (error) {
      // Leaving is never refused: a disconnect resumes the debuggee.
      if (isRelayError(error, 'AUDIT_UNAVAILABLE') && request.command !== 'disconnect') return answer(request, `${request.command} refused: the audit log is unavailable`);
      if (!isRelayError(error, 'AUDIT_UNAVAILABLE')) throw error;
    }
    return undefined;
  });
}

function withPolicy(policy: PolicyName, reason: string | undefined): string | undefined {
  return reason === undefined ? undefined : `refused by policy "${policy}": ${reason}`;
}
