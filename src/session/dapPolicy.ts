import type { DebugProtocol } from '@vscode/debugprotocol';
import { policyNames, type PolicyName } from '../config/guardrailsConfigSchema.js';

/** The stricter of two policies. */
export function stricterPolicy(a: PolicyName, b: PolicyName): PolicyName {
  return policyNames.indexOf(a) >= policyNames.indexOf(b) ? a : b;
}

type Check = (args: Record<string, unknown>) => string | undefined;

const always =
  (why: string): Check =>
  () =>
    why;

interface Conditional {
  readonly condition?: unknown;
  readonly hitCondition?: unknown;
}

function list(args: Record<string, unknown>, key: string): readonly Record<string, unknown>[] {
  const value = args[key];
  return Array.isArray(value) ? value.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null) : [];
}

const present = (value: unknown): boolean => value !== undefined && value !== null && value !== '';

function conditionCheck(key: string, what: string): Check {
  return (args) =>
    list(args, key).some((item) => present((item as Conditional).condition) || present((item as Conditional).hitCondition))
      ? `${what} with a condition or hit condition runs code in the debuggee`
      : undefined;
}

/** Checks of `no-eval`, by command. */
const noEvalChecks: Readonly<Record<string, Check>> = {
  evaluate: always('evaluate runs code in the debuggee'),
  setVariable: always('setVariable changes the debuggee'),
  setExpression: always('setExpression runs code in the debuggee'),
  completions: always('completions runs code in the debuggee'),
  writeMemory: always('writeMemory changes the debuggee'),
  setBreakpoints: conditionCheck('breakpoints', 'a breakpoint'),
  setFunctionBreakpoints: conditionCheck('breakpoints', 'a function breakpoint'),
  setDataBreakpoints: conditionCheck('breakpoints', 'a data breakpoint'),
  setInstructionBreakpoints: conditionCheck('breakpoints', 'an instruction breakpoint'),
  setExceptionBreakpoints: (args) =>
    list(args, 'filterOptions').some((option) => present(option['condition'])) ? 'an exception breakpoint with a condition runs code in the debuggee' : undefined,
};

const stops = (what: string): Check => always(`${what} can stop the process`);

/** Checks `logpoints-only` adds, by command. */
const logpointsOnlyChecks: Readonly<Record<string, Check>> = {
  pause: stops('pause'),
  next: stops('stepping'),
  stepIn: stops('stepping'),
  stepOut: stops('stepping'),
  stepBack: stops('stepping'),
  reverseContinue: stops('reverseContinue'),
  goto: stops('goto'),
  restartFrame: stops('restartFrame'),
  restart: always('restart ends the process'),
  terminate: always('terminate ends the process'),
  terminateThreads: always('terminateThreads ends threads of the process'),
  disconnect: (args) => (args['terminateDebuggee'] === true ? 'disconnect with terminateDebuggee ends the process' : undefined),
  setBreakpoints: (args) =>
    list(args, 'breakpoints').some((bp) => typeof bp['logMessage'] !== 'string' || bp['logMessage'] === '')
      ? 'a breakpoint without a logMessage can stop the process (only logpoints are allowed)'
      : undefined,
  setFunctionBreakpoints: (args) => (list(args, 'breakpoints').length > 0 ? 'a function breakpoint can stop the process' : undefined),
  setDataBreakpoints: (args) => (list(args, 'breakpoints').length > 0 ? 'a data breakpoint can stop the process' : undefined),
  setInstructionBreakpoints: (args) => (list(args, 'breakpoints').length > 0 ? 'an instruction breakpoint can stop the process' : undefined),
  setExceptionBreakpoints: (args) =>
    list(args, 'filterOptions').length > 0 ||
    (Array.isArray(args['filters']) && args['filters'].length > 0) ||
    (Array.isArray(args['exceptionOptions']) && args['exceptionOptions'].length > 0)
      ? 'an exception breakpoint can stop the process'
      : undefined,
};

/** Every command some policy may refuse: the relay intercepts these by name, and only these. */
export const policedCommands: readonly string[] = [...new Set([...Object.keys(noEvalChecks), ...Object.keys(logpointsOnlyChecks)])];

/**
 * Why `policy` refuses `request`, or undefined when it allows it. The reason names
 * what was refused; the caller adds the policy's name.
 */
export function policyRefusal(policy: PolicyName, request: DebugProtocol.Request): string | undefined {
  if (policy === 'full') return undefined;
  const args = typeof request.arguments === 'object' && request.arguments !== null ? (request.arguments as Record<string, unknown>) : {};
  const check = (checks: Readonly<Record<string, Check>>): string | undefined => (Object.hasOwn(checks, request.command) ? checks[request.command]!(args) : undefined);
  const noEval = check(noEvalChecks);
  if (noEval !== undefined || policy === 'no-eval') return noEval;
  return check(logpointsOnlyChecks);
}
