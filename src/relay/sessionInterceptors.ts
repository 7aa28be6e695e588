import type { DapInterceptors } from '../dap/dapPipe.js';

/**
 * The DAP interceptors of a client session, by direction and command name
 * (style.md: forward by default, intercept by name). Empty in protocol v1: every
 * message is forwarded untouched. Policies (no-eval, logpoints-only, runInTerminal
 * refusal) add their handlers here.
 */
export function sessionInterceptors(): DapInterceptors {
  return { toAdapter: new Map(), toClient: new Map() };
}
