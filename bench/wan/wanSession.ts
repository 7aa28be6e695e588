import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { DapTestClient } from '../../test/support/dap/dapTestClient.js';
import { vscodeAttach, vscodeShowStop, vscodeStepOver } from '../../test/support/dap/vscodeSequence.js';
import { markerLine } from '../../test/support/processes/debuggee.js';

/** The WAN benchmark's debuggee: a loop through handle(), a breakpoint line and three lines after it. */
export const wanApp = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'wanApp.py');
const breakpointLine = markerLine('WAN', wanApp);

/** What one session measured, in milliseconds. */
export interface SessionSamples {
  /** Connect to the local port → first `stopped` → the top frame's variables answered. */
  readonly attach: number;
  /** `next` sent → the next stop's top-frame variables answered, once per step. */
  readonly steps: readonly number[];
  /** `variables` of a nested local (a dict). */
  readonly expand: number;
  /** `evaluate` in the debug console. */
  readonly evaluate: number;
}

async function timed<T>(action: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await action();
  return { ms: performance.now() - started, value };
}

/**
 * One debugging session as VS Code runs it through `port` (see vscodeSequence.ts):
 * attach with a breakpoint in handle() and wait for the first view, expand a nested
 * local, evaluate in the console, step over `steps` times; then clear the breakpoint
 * and detach, so the program runs on.
 */
export async function measureSession(port: number, steps: number): Promise<SessionSamples> {
  let client: DapTestClient | undefined;
  const attach = await timed(async () => {
    client = await DapTestClient.connect(port);
    await vscodeAttach(client, { breakpoints: [{ path: wanApp, lines: [breakpointLine] }] });
    const stopped = await client.waitForEvent<DebugProtocol.StoppedEvent>('stopped', undefined, 60_000);
    return vscodeShowStop(client, stopped);
  });
  const session = client!;
  try {
    const view = attach.value;
    const nested = view.variables.find((variable) => variable.name === 'request');
    if (!nested || nested.variablesReference <= 0) throw new Error('the local "request" is not expandable');
    const expand = await timed(() => session.request('variables', { variablesReference: nested.variablesReference }));
    const evaluate = await timed(() => session.request('evaluate', { expression: 'len(request["items"]) * n', frameId: view.frame.id, context: 'repl' }));
    const stepTimes: number[] = [];
    for (let i = 0; i < steps; i++) stepTimes.push((await timed(() => vscodeStepOver(session, view.threadId))).ms);
    return { attach: attach.ms, steps: stepTimes, expand: expand.ms, evaluate: evaluate.ms };
  } finally {
    await session.request('setBreakpoints', { source: { path: wanApp }, breakpoints: [] }).catch(() => undefined);
    await session.request('disconnect', { terminateDebuggee: false }).catch(() => undefined);
    await session.close();
  }
}
