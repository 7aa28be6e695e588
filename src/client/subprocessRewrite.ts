import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DapInterceptContext, DapInterceptor, DapInterceptors, DapVerdict } from '../dap/dapPipe.js';
import type { DapMessage } from '../dap/dapMessage.js';

/** Where the DAP client should open its second connection: `dbgrelay attach`'s own listener. */
export interface LocalEndpoint {
  readonly host: string;
  readonly port: number;
}

/**
 * The attach-configuration keys a remote adapter may hand to the engineer's debugger
 * for a subprocess session. An allow-list, not a deny-list: any other key (a task to
 * run, a program to launch, a local process or adapter to attach to, a URL to open,
 * per-OS override blocks) could make VS Code act on the engineer's machine. debugpy
 * (1.8, adapter/clients.py `notify_of_subprocess`) builds the configuration from the
 * parent session's; these are the ones that matter for attaching to it.
 */
const forwardedAttachKeys = new Set([
  'type',
  'request',
  'name',
  'subProcessId',
  'subProcess',
  'pathMappings',
  'justMyCode',
  'rules',
  'redirectOutput',
  'showReturnValue',
  'stopOnEntry',
  'debugOptions',
  'django',
  'flask',
  'jinja',
  'pyramid',
  'gevent',
  'clientOS',
  'maxExceptionStackFrames',
  'breakOnSystemExitZero',
]);

/**
 * Returns a copy of a debugpy subprocess attach configuration that connects to
 * `local`: debugpy fills `connect` with what the client sent in `attach`, or else with
 * its own loopback port on the remote host; older configurations carry `host`/`port`.
 * The copy keeps only {@link forwardedAttachKeys} and gets `connect: {host, port}` of
 * the local endpoint.
 */
export function rewriteAttachConfiguration(configuration: unknown, local: LocalEndpoint): Record<string, unknown> {
  const source: Record<string, unknown> =
    typeof configuration === 'object' && configuration !== null && !Array.isArray(configuration) ? (configuration as Record<string, unknown>) : {};
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) if (forwardedAttachKeys.has(key)) copy[key] = value;
  copy['connect'] = { host: local.host, port: local.port };
  return copy;
}

/** Reverse requests a remote adapter may never get the engineer's debugger to run. */
const refusedReverseRequests = ['runInTerminal'] as const;

/**
 * First `seq` of the messages `dbgrelay attach` originates toward the adapter (its
 * pipe's `ownSeqBase`): far above the debugger's and the relay's own numbers.
 */
export const attachClientSeqBase = 0x4000_0000;

/**
 * DAP interceptors for the `toClient` direction of `dbgrelay attach` (docs/protocol.md
 * §6): the `debugpyAttach` event and the `startDebugging` reverse request get their
 * `connect` rewritten to `local()`, so the debugger's connection for a child
 * process comes back through the same local port and reaches the same target.
 * A `startDebugging` that asks for anything but `attach`, and any `runInTerminal`,
 * are refused with an error response to the adapter and never reach the debugger
 * (give the pipe `ownSeqBase: attachClientSeqBase`).
 */
export function subprocessRewriteInterceptors(local: () => LocalEndpoint): DapInterceptors {
  const onDebugpyAttach: DapInterceptor = (message: DapMessage): DapVerdict => {
    if (message.type !== 'event') return undefined;
    const event = message as DebugProtocol.Event;
    const body = rewriteAttachConfiguration(event.body, local());
    body['request'] = 'attach';
    return { ...event, body };
  };

  const onStartDebugging: DapInterceptor = (message: DapMessage, context: DapInterceptContext): DapVerdict => {
    if (message.type !== 'request') return undefined;
    const request = message as DebugProtocol.StartDebuggingRequest;
    const args = (request.arguments ?? {}) as Partial<DebugProtocol.StartDebuggingRequestArguments>;
    if (args.request !== 'attach') {
      return context.refuse(request, `refused startDebugging with request "${String(args.request)}": only attach is allowed through the relay`);
    }
    const configuration = rewriteAttachConfiguration(args.configuration, local());
    if (configuration['request'] !== undefined) configuration['request'] = 'attach';
    return { ...request, arguments: { ...args, request: 'attach', configuration } } as DebugProtocol.StartDebuggingRequest;
  };

  const toClient = new Map<string, DapInterceptor>([
    ['debugpyAttach', onDebugpyAttach],
    ['startDebugging', onStartDebugging],
  ]);
  for (const command of refusedReverseRequests) {
    toClient.set(command, (message, context) =>
      message.type === 'request' ? context.refuse(message as DebugProtocol.Request, `${command} from the remote side is not allowed`) : undefined,
    );
  }
  return { toClient };
}
