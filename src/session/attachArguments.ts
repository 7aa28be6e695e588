import type { DebugProtocol } from '@vscode/debugprotocol';
import type { AuditSink } from '../audit/auditEvent.js';
import { printable } from '../common/printable.js';
import type { InterceptorChain } from '../dap/interceptorChain.js';
import type { DapInterceptContext } from '../dap/dapInterceptor.js';

/**
 * The `attach` argument keys the relay forwards to debugpy: each one only configures
 * the debugging session of the process that is already running, or is bookkeeping of
 * the DAP client that debugpy ignores. An allow-list: any other key is refused,
 * because debugpy's adapter (`adapter/clients.py` `attach_request`) and pydevd
 * (`_set_debug_options`) act on the host for some of them (`processId` and
 * `debugpyArgs` inject a debug server into another process, `listen` opens a port,
 * `autoReload` reloads modules from disk, `python`, `program`, `env`, `cwd` belong to
 * starting a process), and a key unknown today may act tomorrow.
 * docs/operations.md "Attach arguments" gives the reason for each key.
 */
export const forwardedAttachKeys: ReadonlySet<string> = new Set([
  // Bookkeeping of the DAP client (VS Code), ignored by debugpy.
  'type',
  'request',
  'name',
  '__restart',
  '__sessionId',
  '__configurationTarget',
  // Which announced subprocess this session attaches to (adapter: waits 0 s for it).
  'subProcessId',
  // Session configuration read by debugpy's adapter or pydevd.
  'subProcess',
  'justMyCode',
  'debugStdLib',
  'rules',
  'pathMappings',
  'clientOS',
  'redirectOutput',
  'showReturnValue',
  'stopOnEntry',
  'debugOptions',
  'django',
  'flask',
  'jinja',
  'pyramid',
  'gevent',
  'maxExceptionStackFrames',
  'breakOnSystemExitZero',
  'variablePresentation',
  'steppingResumesAllThreads',
  'stopAllThreadsOnSuspend',
  'resolveSymlinks',
]);

/**
 * Keys that matter only on the DAP client's machine, accepted and removed before the
 * request is forwarded: where the client's own connection goes (`connect`, or the
 * older `host`/`port`; VS Code always sends one of them, and a subprocess
 * configuration carries `connect`), and VS Code's local settings (`workspaceFolder`,
 * `logToFile`, and `localRoot`/`remoteRoot`, which it has already folded into
 * `pathMappings`). Past the relay they mean nothing: the relay owns the route to the
 * adapter, and debugpy never dials `connect` of an attach.
 */
export const droppedAttachKeys: ReadonlySet<string> = new Set(['connect', 'host', 'port', 'workspaceFolder', 'logToFile', 'localRoot', 'remoteRoot']);

/** Most offending keys a refusal message names; the rest are counted. */
const maxNamedKeys = 8;
/** Longest key name a refusal message shows. */
const maxKeyChars = 64;

/** What {@link checkAttachArguments} decided. */
export type AttachArgumentsVerdict = { readonly refused: readonly string[] } | { readonly refused?: undefined; readonly forwarded: Record<string, unknown> | undefined };

/**
 * Checks the arguments of an `attach` request against the allow-list: `refused` lists
 * every key outside {@link forwardedAttachKeys} and {@link droppedAttachKeys};
 * otherwise `forwarded` is the arguments without the dropped keys, or undefined when
 * nothing had to be removed (the request is forwarded untouched).
 */
export function checkAttachArguments(args: unknown): AttachArgumentsVerdict {
  if (args === undefined) return { forwarded: undefined };
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return { refused: ['(arguments that are not an object)'] };
  const keys = Object.keys(args);
  const refused = keys.filter((key) => !forwardedAttachKeys.has(key) && !droppedAttachKeys.has(key));
  if (refused.length > 0) return { refused };
  if (!keys.some((key) => droppedAttachKeys.has(key))) return { forwarded: undefined };
  const forwarded: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) if (forwardedAttachKeys.has(key)) forwarded[key] = value;
  return { forwarded };
}

/** The refusal text for `keys` (bounded: a client chooses the key names). */
export function attachRefusalReason(keys: readonly string[]): string {
  const named = keys.slice(0, maxNamedKeys).map((key) => JSON.stringify(printable(key.length > maxKeyChars ? `${key.slice(0, maxKeyChars)}…` : key)));
  const more = keys.length > maxNamedKeys ? ` and ${keys.length - maxNamedKeys} more` : '';
  const noun = keys.length === 1 ? 'argument' : 'arguments';
  return `attach ${noun} ${named.join(', ')}${more} refused: the relay forwards only arguments that configure debugging of the running process`;
}

/** Options of {@link guardAttachArguments}. */
export interface AttachArgumentsGuardOptions {
  /** The session's best-effort audit sink (a refusal stands whether or not it is recorded). */
  readonly audit: AuditSink;
  /** Called with the command of each refused request (metrics). */
  readonly onRefused?: (command: string) => void;
}

/**
 * The `toAdapter` guard of start requests: `launch` is always refused (the relay only
 * debugs processes that already run); `attach` is refused when it carries a key
 * outside the allow-list, naming the keys, and is forwarded without `connect`, `host`
 * and `port`. A refusal gets a DAP error response, a `dap.refused` audit record with
 * `guard: "attachArguments"`, and never reaches the adapter: the session goes on.
 * Register it before the policy gate, so that a refused attach is neither audited as
 * forwarded nor counted by the target lease.
 */
export function guardAttachArguments(chain: InterceptorChain, options: AttachArgumentsGuardOptions): void {
  const { audit } = options;
  const refuse = (context: DapInterceptContext, request: DebugProtocol.Request, reason: string, keys?: readonly string[]): null => {
    options.onRefused?.(request.command);
    audit.record({
      event: 'dap.refused',
      direction: 'toAdapter',
      command: request.command,
      guard: 'attachArguments',
      reason,
      ...(keys ? { keys: keys.slice(0, maxNamedKeys).map((key) => printable(key.slice(0, maxKeyChars))) } : {}),
    });
    return context.refuse(request, reason);
  };

  chain.add('toAdapter', 'launch', (message, context) => {
    if (message.type !== 'request') return undefined;
    return refuse(context, message as DebugProtocol.Request, 'launch refused: the relay only attaches to a process that is already running');
  });

  chain.add('toAdapter', 'attach', (message, context) => {
    if (message.type !== 'request') return undefined;
    const request = message as DebugProtocol.Request;
    const verdict = checkAttachArguments(request.arguments);
    if (verdict.refused) return refuse(context, request, attachRefusalReason(verdict.refused), verdict.refused);
    return verdict.forwarded ? ({ ...request, arguments: verdict.forwarded } as DebugProtocol.Request) : undefined;
  });
}
