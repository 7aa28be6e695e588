/**
 * Every request command of the Debug Adapter Protocol (specification, "Requests"),
 * plus the debugpy/pydevd extensions a VS Code client sends. These are the values the
 * `command` label of `dbgrelay_dap_requests_total` may take; anything else is `other`.
 * https://microsoft.github.io/debug-adapter-protocol/specification#Requests
 */
export const knownDapCommands: ReadonlySet<string> = new Set([
  'attach',
  'breakpointLocations',
  'cancel',
  'completions',
  'configurationDone',
  'continue',
  'dataBreakpointInfo',
  'disassemble',
  'disconnect',
  'evaluate',
  'exceptionInfo',
  'goto',
  'gotoTargets',
  'initialize',
  'launch',
  'loadedSources',
  'locations',
  'modules',
  'next',
  'pause',
  'readMemory',
  'restart',
  'restartFrame',
  'reverseContinue',
  'scopes',
  'setBreakpoints',
  'setDataBreakpoints',
  'setExceptionBreakpoints',
  'setExpression',
  'setFunctionBreakpoints',
  'setInstructionBreakpoints',
  'setVariable',
  'source',
  'stackTrace',
  'stepBack',
  'stepIn',
  'stepInTargets',
  'stepOut',
  'terminate',
  'terminateThreads',
  'threads',
  'variables',
  'writeMemory',
  // debugpy and pydevd extensions (debugpy/adapter, pydevd_process_net_command_json.py).
  'debugpySystemInfo',
  'pydevdSystemInfo',
  'pydevdAuthorize',
  'setDebuggerProperty',
  'setPydevdSourceMap',
]);

/**
 * The `command` label value for a DAP request command: the command itself when it is
 * one of {@link knownDapCommands}, else `other`, so that a client cannot grow the
 * label set (and the relay's memory) by sending made-up commands. Matching is exact:
 * DAP commands are case-sensitive.
 */
export function dapCommandLabel(command: unknown): string {
  return typeof command === 'string' && knownDapCommands.has(command) ? command : 'other';
}
