import type { DebugProtocol } from '@vscode/debugprotocol';
import type { AuditSink } from '../audit/auditEvent.js';
import type { InterceptorChain } from '../dap/interceptorChain.js';
import type { DapInterceptContext } from '../dap/dapInterceptor.js';

/** Options of {@link guardReverseRequests}. */
export interface ReverseRequestGuardOptions {
  readonly audit: AuditSink;
  /** Called with the `subProcessId` of each subprocess the adapter announces (for target leases). */
  readonly onSubprocess?: (subProcessId: number) => void;
  /** Called with the command of each refused or dropped message (metrics). */
  readonly onRefused?: (command: string) => void;
}

function subProcessIdOf(configuration: unknown): number | undefined {
  if (typeof configuration !== 'object' || configuration === null) return undefined;
  const id = (configuration as { subProcessId?: unknown }).subProcessId;
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : undefined;
}

/**
 * Relay-side protection of the engineer's machine on the `toClient`
 * direction, independent of what the client does:
 *
 * - `runInTerminal` from the adapter side never reaches the client: the relay answers
 *   it with an error response to the adapter;
 * - `startDebugging` reaches the client only with `request: "attach"`; anything else
 *   (`launch`, missing) is answered with an error response to the adapter;
 * - the older `debugpyAttach` event reaches the client only when its `request` is
 *   absent or `attach` (an event cannot be answered, so another one is dropped).
 *
 * The relay does not rewrite `connect`: only the client knows its own local endpoint,
 * and `dbgrelay attach` rewrites it (src/client/subprocessRewrite.ts). Each check is
 * audited (`dap.refused`, or `dap.subprocess` for an announcement let through).
 */
export function guardReverseRequests(chain: InterceptorChain, options: ReverseRequestGuardOptions): void {
  const { audit } = options;
  const refuse = (context: DapInterceptContext, request: DebugProtocol.Request, reason: string): null => {
    options.onRefused?.(request.command);
    audit.record({ event: 'dap.refused', direction: 'toClient', command: request.command, reason });
    return context.refuse(request, reason);
  };

  chain.add('toClient', 'runInTerminal', (message, context) => {
    if (message.type !== 'request') return undefined;
    return refuse(context, message as DebugProtocol.Request, 'runInTerminal from the remote side is never forwarded to the client');
  });

  chain.add('toClient', 'startDebugging', (message, context) => {
    if (message.type !== 'request') return undefined;
    const request = message as DebugProtocol.StartDebuggingRequest;
    const args = (request.arguments ?? {}) as Partial<DebugProtocol.StartDebuggingRequestArguments>;
    if (args.request !== 'attach') {
      return refuse(context, request, `startDebugging with request ${JSON.stringify(args.request ?? null)} refused: only attach is allowed through the relay`);
    }
    const subProcessId = subProcessIdOf(args.configuration);
    audit.record({ event: 'dap.subprocess', via: 'startDebugging', subProcessId: subProcessId ?? null });
    if (subProcessId !== undefined) options.onSubprocess?.(subProcessId);
    return undefined;
  });

  chain.add('toClient', 'debugpyAttach', (message) => {
    if (message.type !== 'event') return undefined;
    const body = (message as DebugProtocol.Event).body as { request?: unknown } | undefined;
    if (body?.request !== undefined && body.request !== 'attach') {
      options.onRefused?.('debugpyAttach');
      audit.record({ event: 'dap.refused', direction: 'toClient', command: 'debugpyAttach', reason: 'debugpyAttach event that is not an attach dropped' });
      return null;
    }
    const subProcessId = subProcessIdOf(body);
    audit.record({ event: 'dap.subprocess', via: 'debugpyAttach', subProcessId: subProcessId ?? null });
    if (subProcessId !== undefined) options.onSubprocess?.(subProcessId);
    return undefined;
  });
}
