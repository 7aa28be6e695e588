import { Counter, type Registry } from 'prom-client';
import { AuditMetrics } from './auditMetrics.js';

/**
 * What refused a DAP message, the `policy` label of `dbgrelay_dap_refusals_total`:
 * a DAP policy (`no-eval`, `logpoints-only`), the reverse-request guard
 * (`reverseRequests`: `runInTerminal`, a `startDebugging` that is not an attach), the
 * one-debugger-per-target rule (`exclusive`: a further session's attach), or the
 * attach-arguments guard (`attachArguments`: `launch`, an `attach` with a key outside
 * the allow-list), or request validation (`schema`: a request the DAP schema or debugpy
 * cannot take).
 */
export const refusalGuards = ['no-eval', 'logpoints-only', 'reverseRequests', 'exclusive', 'attachArguments', 'schema'] as const;

/** A value of {@link refusalGuards}. */
export type RefusalGuard = (typeof refusalGuards)[number];

/**
 * The DAP commands the `command` label may name: every command a guard refuses
 * (docs/operations.md, "Production guardrails"). Anything else (which no guard refuses today) is counted as `other`,
 * so that a peer cannot grow the label set by sending made-up commands.
 */
export const refusalCommands: ReadonlySet<string> = new Set([
  'evaluate',
  'setVariable',
  'setExpression',
  'completions',
  'writeMemory',
  'setBreakpoints',
  'setFunctionBreakpoints',
  'setDataBreakpoints',
  'setInstructionBreakpoints',
  'setExceptionBreakpoints',
  'pause',
  'next',
  'stepIn',
  'stepOut',
  'stepBack',
  'reverseContinue',
  'goto',
  'restartFrame',
  'restart',
  'terminate',
  'terminateThreads',
  'disconnect',
  'attach',
  'launch',
  'runInTerminal',
  'startDebugging',
  'debugpyAttach',
  'threads',
  'stackTrace',
  'scopes',
  'variables',
  'continue',
  'loadedSources',
  'breakpointLocations',
  'cancel',
]);

/** Metrics of the session guardrails (docs/operations.md "Metrics"), in one relay's registry. */
export class GuardrailMetrics {
  /** `dbgrelay_dap_refusals_total{policy,command}`: DAP messages a guard refused. */
  readonly refusals: Counter<'policy' | 'command'>;
  /** `dbgrelay_watchdog_resumes_total`: debuggees the pause watchdog resumed. */
  readonly watchdogResumes: Counter;
  /** The audit log's refusals, aggregation, truncation and full state. */
  readonly audit: AuditMetrics;
  /** `dbgrelay_prefetch_answers_total`: answers the agents' bridges sent ahead on a stop (`dap.prefetch`). */
  readonly prefetchAnswers: Counter;
  /** `dbgrelay_prefetch_bytes_total`: bytes of those answers' bodies (bounded per stop by `dap.prefetch.maxBytesPerStop`). */
  readonly prefetchBytes: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.audit = new AuditMetrics(registry);
    this.refusals = new Counter({
      name: 'dbgrelay_dap_refusals_total',
      help: 'DAP messages refused by a policy, the reverse-request guard or the one-debugger-per-target rule, by guard and DAP command.',
      labelNames: ['policy', 'command'] as const,
      registers,
    });
    this.prefetchAnswers = new Counter({
      name: 'dbgrelay_prefetch_answers_total',
      help: 'DAP answers sent ahead to clients on a stop (dap.prefetch).',
      registers,
    });
    this.prefetchBytes = new Counter({
      name: 'dbgrelay_prefetch_bytes_total',
      help: 'Bytes of the DAP answers sent ahead to clients on a stop, bodies only (bounded per stop by dap.prefetch.maxBytesPerStop).',
      registers,
    });
    this.watchdogResumes = new Counter({
      name: 'dbgrelay_watchdog_resumes_total',
      help: 'Debuggees the pause watchdog resumed after they were paused longer than allowed.',
      registers,
    });
  }

  /** Counts one refusal; label values outside the bounded sets become `other`. */
  countRefusal(guard: string, command: string): void {
    this.refusals.inc({
      policy: (refusalGuards as readonly string[]).includes(guard) ? guard : 'other',
      command: refusalCommands.has(command) ? command : 'other',
    });
  }
}
