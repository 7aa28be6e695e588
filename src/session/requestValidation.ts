import type { DebugProtocol } from '@vscode/debugprotocol';
import type { AuditSink } from '../audit/auditEvent.js';
import { printable } from '../common/printable.js';
import type { InterceptorChain } from '../dap/interceptorChain.js';
import { validateDapRequest } from '../dap/requestSchema.js';

/**
 * Requests debugpy 1.8 does not implement and never answers: its adapter handles one
 * request at a time and waits for pydevd's answer, so one of these stalls the session
 * for good (no later request, not even `disconnect`, is answered, and a paused program
 * stays paused). No DAP client sends them to debugpy, whose capabilities do not
 * announce them; the relay answers them itself. docs/debugpy-faults.md has the
 * reproduction.
 */
export const unansweredByDebugpy: ReadonlySet<string> = new Set(['loadedSources', 'terminateThreads', 'breakpointLocations', 'cancel']);

/**
 * debugpy's own requests between its adapter and pydevd, never a client's: a client's
 * `pydevdAuthorize` with a wrong token logs pydevd out, after which it refuses every
 * request (`continue` and `disconnect` included) and a paused program stays paused.
 */
export const internalToDebugpy: ReadonlySet<string> = new Set(['pydevdAuthorize', 'pydevdSystemInfo']);

/** Longest command name a refusal shows (a client chooses it). */
const maxCommandChars = 64;
/** Longest field pointer a refusal shows (it may hold a client's key names). */
const maxFieldChars = 256;

/** Options of {@link validateRequests}. */
export interface RequestValidationOptions {
  /** The session's best-effort audit sink (a refusal stands whether or not it is recorded). */
  readonly audit: AuditSink;
  /** Called with the command of each refused request (metrics). */
  readonly onRefused?: (command: string) => void;
}

/**
 * Checks every request toward the adapter before any other guard sees it: against the
 * DAP specification's JSON schema tightened for debugpy (src/dap/requestSchema.ts), and
 * against {@link unansweredByDebugpy}. A refused request gets a DAP error response that
 * names the field, a `dap.refused` audit record with `guard: "schema"`, and never
 * reaches the adapter; the session goes on. Policies and the other guards registered
 * after it therefore judge only well-formed requests.
 */
export function validateRequests(chain: InterceptorChain, options: RequestValidationOptions): void {
  const { audit } = options;
  chain.addForEveryRequest((message, context) => {
    if (message.type !== 'request') return undefined;
    const request = message as DebugProtocol.Request;
    const command = typeof request.command === 'string' ? printable(request.command.slice(0, maxCommandChars)) : '(none)';
    let reason: string | undefined;
    let field: string | undefined;
    const invalid = validateDapRequest(message);
    if (invalid) {
      field = printable(invalid.field.length > maxFieldChars ? `${invalid.field.slice(0, maxFieldChars)}…` : invalid.field);
      reason = `${command} refused: ${field === '' ? 'the request' : field} ${printable(invalid.message.slice(0, maxFieldChars))} (DAP schema)`;
    } else if (unansweredByDebugpy.has(request.command)) {
      reason = `${command} refused: debugpy does not implement it and would never answer`;
    } else if (internalToDebugpy.has(request.command)) {
      reason = `${command} refused: it is debugpy's own request between its adapter and the debuggee`;
    }
    if (reason === undefined) return undefined;
    options.onRefused?.(command);
    audit.record({ event: 'dap.refused', direction: 'toAdapter', command, guard: 'schema', reason, ...(field !== undefined ? { field } : {}) });
    return context.refuse(request, reason);
  });
}
