import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DapTestClient } from './dapTestClient.js';

/**
 * The requests VS Code sends to debugpy, in its order and with its arguments, as read
 * in VS Code's debug code (`DebugSession.initialize`, `launchOrAttach`,
 * `sendAllBreakpoints`, `handleStop`, `Thread.fetchCallStack`, the variables view). The
 * timers VS Code adds of its own (the variables view waits 400 ms after a stop before
 * `scopes`, the second page of frames 420 ms) are left out: they cost the same on every
 * path, and what is measured here is what the network and the debugger add.
 */

/** `initialize` as VS Code sends it (`DebugSession.initialize`). */
export const vscodeInitializeArguments: DebugProtocol.InitializeRequestArguments = {
  clientID: 'vscode',
  clientName: 'Visual Studio Code',
  adapterID: 'debugpy',
  pathFormat: 'path',
  linesStartAt1: true,
  columnsStartAt1: true,
  supportsVariableType: true,
  supportsVariablePaging: true,
  supportsRunInTerminalRequest: true,
  locale: 'en',
  supportsProgressReporting: true,
  supportsInvalidatedEvent: true,
  supportsMemoryReferences: true,
  supportsArgsCanBeInterpretedByShell: true,
  supportsMemoryEvent: true,
  supportsStartDebuggingRequest: true,
  supportsANSIStyling: true,
};

/** Breakpoints of one file, as the editor holds them. */
export interface FileBreakpoints {
  readonly path: string;
  readonly lines: readonly number[];
}

/**
 * Attaches as VS Code does: `initialize`; `attach` as soon as it is answered (debugpy
 * answers it only after `configurationDone`); on `initialized`, every `setBreakpoints`,
 * `setFunctionBreakpoints` and `setExceptionBreakpoints` at once; `configurationDone`
 * once they are all answered; then `threads`. Resolves when `threads` and `attach` are
 * answered.
 */
export async function vscodeAttach(
  client: DapTestClient,
  options: { attachArguments?: Record<string, unknown>; breakpoints?: readonly FileBreakpoints[]; exceptionFilters?: readonly string[] } = {},
): Promise<void> {
  await client.request('initialize', vscodeInitializeArguments);
  const attached = client.request('attach', { request: 'attach', type: 'debugpy', justMyCode: true, ...options.attachArguments }, 30_000);
  await client.waitForEvent('initialized', undefined, 30_000);
  await Promise.all([
    ...(options.breakpoints ?? []).map((file) =>
      client.request('setBreakpoints', {
        source: { name: file.path.split('/').pop(), path: file.path },
        lines: file.lines,
        breakpoints: file.lines.map((line) => ({ line })),
        sourceModified: false,
      }),
    ),
    client.request('setFunctionBreakpoints', { breakpoints: [] }),
    client.request('setExceptionBreakpoints', { filters: options.exceptionFilters ?? ['uncaught'] }),
  ]);
  await client.request('configurationDone');
  await Promise.all([client.request('threads'), attached]);
}

/** What VS Code shows after a stop: the stopped thread's top frame and its first scope's variables. */
export interface VscodeView {
  readonly threadId: number;
  readonly frame: DebugProtocol.StackFrame;
  readonly scopes: readonly DebugProtocol.Scope[];
  readonly variables: readonly DebugProtocol.Variable[];
}

/**
 * What VS Code asks after a `stopped` event before it shows the top frame's variables
 * (`handleStop`): `threads`; `stackTrace` of the top frame only (debugpy supports
 * delayed stack trace loading); then `scopes` of that frame and `variables` of its first
 * scope that is not expensive, beside `stackTrace` of the next 19 frames. Resolves when
 * all are answered.
 */
export async function vscodeShowStop(client: DapTestClient, stopped: DebugProtocol.StoppedEvent): Promise<VscodeView> {
  const threadId = stopped.body.threadId;
  if (threadId === undefined) throw new Error('stopped event without a threadId');
  await client.request('threads');
  const top = await client.request<DebugProtocol.StackTraceResponse>('stackTrace', { threadId, startFrame: 0, levels: 1 });
  const frame = top.body.stackFrames[0];
  if (!frame) throw new Error('the stopped thread has no frame');
  const more = client.request('stackTrace', { threadId, startFrame: 1, levels: 19 });
  const scopes = await client.request<DebugProtocol.ScopesResponse>('scopes', { frameId: frame.id });
  const shown = scopes.body.scopes.find((scope) => !scope.expensive);
  const variables = shown ? (await client.request<DebugProtocol.VariablesResponse>('variables', { variablesReference: shown.variablesReference })).body.variables : [];
  await more;
  return { threadId, frame, scopes: scopes.body.scopes, variables };
}

/** Steps over as VS Code does (`next {threadId}`) and waits for what it shows after the stop. */
export async function vscodeStepOver(client: DapTestClient, threadId: number): Promise<VscodeView> {
  const stopped = client.waitForEvent<DebugProtocol.StoppedEvent>('stopped', (event) => event.body.threadId === threadId, 30_000);
  await client.request('next', { threadId });
  return vscodeShowStop(client, await stopped);
}
