import type { DebugProtocol } from '@vscode/debugprotocol';
import { cutsCode } from './auditedCode.js';

/** What an audited request's record shows, truncated to a bound. */
type Fields = Record<string, unknown>;
type Extract = (args: Record<string, unknown>, clip: (value: unknown) => unknown) => Fields;

function breakpointFields(item: Record<string, unknown>, clip: (value: unknown) => unknown): Fields {
  const fields: Fields = {};
  for (const key of ['line', 'column', 'name', 'dataId', 'instructionReference', 'accessType', 'condition', 'hitCondition', 'logMessage']) {
    if (item[key] !== undefined) fields[key] = clip(item[key]);
  }
  return fields;
}

function items(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null) : [];
}

const pick =
  (...keys: string[]): Extract =>
  (args, clip) => {
    const fields: Fields = {};
    for (const key of keys) if (args[key] !== undefined) fields[key] = clip(args[key]);
    return fields;
  };

const breakpoints: Extract = (args, clip) => ({
  ...(args['source'] !== undefined ? { source: clip((args['source'] as { path?: unknown; name?: unknown }).path ?? (args['source'] as { name?: unknown }).name) } : {}),
  breakpoints: items(args['breakpoints']).map((bp) => breakpointFields(bp, clip)),
});

/**
 * The requests the audit log records (state-changing or code-running;
 * docs/operations.md "Audit"), and the argument fields each record keeps. Everything
 * else (stack traces, variables, threads, ...) is forwarded without a record.
 */
const auditedRequests: Readonly<Record<string, Extract>> = {
  attach: pick('subProcessId'),
  evaluate: pick('expression', 'context', 'frameId'),
  setVariable: pick('variablesReference', 'name', 'value'),
  setExpression: pick('expression', 'value', 'frameId'),
  completions: pick('text', 'frameId'),
  writeMemory: pick('memoryReference', 'offset'),
  setBreakpoints: breakpoints,
  setFunctionBreakpoints: breakpoints,
  setDataBreakpoints: breakpoints,
  setInstructionBreakpoints: breakpoints,
  setExceptionBreakpoints: pick('filters', 'filterOptions', 'exceptionOptions'),
  pause: pick('threadId'),
  continue: pick('threadId', 'singleThread'),
  next: pick('threadId'),
  stepIn: pick('threadId', 'targetId'),
  stepOut: pick('threadId'),
  stepBack: pick('threadId'),
  reverseContinue: pick('threadId'),
  goto: pick('threadId', 'targetId'),
  restartFrame: pick('frameId'),
  restart: () => ({}),
  terminate: pick('restart'),
  terminateThreads: pick('threadIds'),
  disconnect: pick('terminateDebuggee', 'suspendDebuggee', 'restart'),
};

/** Names of the requests the audit log records. */
export const auditedCommands: readonly string[] = Object.keys(auditedRequests);

/**
 * The audit fields of `request` (its command and chosen arguments, each string cut to
 * `maxValueChars`), or undefined when its command is not audited.
 */
export function auditFieldsOf(request: DebugProtocol.Request, maxValueChars: number): Fields | undefined {
  if (!Object.hasOwn(auditedRequests, request.command)) return undefined;
  const clip = (value: unknown): unknown => clipValue(value, maxValueChars);
  return { command: request.command, ...auditedRequests[request.command]!(argumentsOf(request), clip) };
}

/**
 * True when `fields` (from {@link auditFieldsOf}) do not show every code-bearing field
 * of `request` whole (e.g. an expression longer than `audit.maxValueChars`, or an
 * exception filter past the first 100): such a request must not run.
 */
export function auditFieldsCutCode(request: DebugProtocol.Request, fields: Readonly<Fields>): boolean {
  if (!Object.hasOwn(auditedRequests, request.command)) return false;
  return cutsCode(
    auditedRequests[request.command]!(argumentsOf(request), (value) => value),
    fields,
  );
}

function argumentsOf(request: DebugProtocol.Request): Record<string, unknown> {
  return typeof request.arguments === 'object' && request.arguments !== null ? (request.arguments as Record<string, unknown>) : {};
}

/**
 * What {@link clipValue} keeps of a nested value in an audit record: levels below the
 * top (deeper is `…`), items of one array, keys of one object. Far above what the
 * audited DAP arguments hold (a breakpoint list, a few fields), small enough that one
 * request cannot make a record huge before `audit.maxRecordBytes` cuts it.
 */
export const auditClipBounds = { maxDepth: 4, maxItems: 100, maxKeys: 50 } as const;

/** Cuts strings (also inside arrays and objects) to `max` characters, marking the cut. */
export function clipValue(value: unknown, max: number, depth = 0): unknown {
  if (typeof value === 'string') return value.length > max ? `${value.slice(0, max)}…[${value.length - max} more]` : value;
  if (depth > auditClipBounds.maxDepth) return '…';
  if (Array.isArray(value)) return value.slice(0, auditClipBounds.maxItems).map((item) => clipValue(item, max, depth + 1));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .slice(0, auditClipBounds.maxKeys)
        .map(([key, item]) => [key, clipValue(item, max, depth + 1)]),
    );
  }
  return value;
}
