import { performance } from 'node:perf_hooks';
import type { DapTestClient } from '../dap/dapTestClient.js';
import { markerLine, webAppPath, type Debuggee } from '../processes/debuggee.js';
import { attachSession, startAttach, waitForStop, waitForTargets, type ClientAccess } from '../relay/relayClient.js';

/**
 * Shared steps of the chaos suite (test/e2e/chaos*.test.ts): pause the web app at a
 * breakpoint, apply one fault, measure the time until the program prints again, and
 * show that the target can be debugged again afterwards.
 */

/** Session liveness of every chaos relay (`heartbeat`): a silent connection is found in 1.5 s. */
export const chaosHeartbeat = { intervalMs: 250, timeoutMs: 1_500 } as const;
/**
 * The agents' control heartbeat (`agents`); the bridge also takes its data connections'
 * heartbeat interval and (over wss) deadline from it, as the `registered` message carries it.
 */
export const chaosAgentHeartbeat = { heartbeatIntervalMs: 500, heartbeatTimeoutMs: 2_000 } as const;
/** Bound on the relay's detach of a lost client (`sessions.detachTimeoutMs`). */
export const chaosDetachTimeoutMs = 3_000;
/** Relay settings of the chaos suite: short heartbeats and bounds, so each fault is found fast. */
export const chaosRelaySettings = {
  heartbeat: chaosHeartbeat,
  agents: chaosAgentHeartbeat,
  sessions: { detachTimeoutMs: chaosDetachTimeoutMs },
  log: { level: 'debug' },
} as const;
/**
 * Bound on the bridge's own detach once its data connection is gone: it waits at most
 * `SessionTimeouts.response_s` (5 s, agent-py/dbgrelay/bridge/adaptersession.py) for
 * debugpy's answer to its `disconnect`.
 */
export const bridgeDetachBoundMs = 5_000;
/** How long a paused program must stay silent before the fault, to show the pause is real. */
const quietBeforeFaultMs = 300;

/** The web app's request handler breakpoint (main thread). */
export const handleBreakpoint = { path: webAppPath, lines: [{ line: markerLine('HANDLE') }] };

/** Attaches on DAP port `port` with the handler breakpoint and waits until the program stops there. */
export async function pauseAtHandler(port: number): Promise<{ client: DapTestClient; threadId: number }> {
  const client = await attachSession(port, { breakpoints: handleBreakpoint });
  const { event, frame } = await waitForStop(client, 'breakpoint', 20_000);
  if (frame.line !== handleBreakpoint.lines[0]!.line) throw new Error(`stopped at line ${frame.line}, not at the breakpoint`);
  if (event.body.threadId === undefined) throw new Error('stopped event without a threadId');
  return { client, threadId: event.body.threadId };
}

/** Throws unless the debuggee printed no `tick` for {@link quietBeforeFaultMs}: it is really paused. */
export async function expectPaused(debuggee: Debuggee): Promise<void> {
  const from = debuggee.outputLength();
  await new Promise((r) => setTimeout(r, quietBeforeFaultMs));
  if (/tick \d+/.test(debuggee.output().slice(from))) throw new Error('the program is not paused: it printed a tick');
}

/**
 * Applies `fault` to a paused debuggee and resolves with the milliseconds from the
 * fault to the program's next `tick`; rejects if that takes longer than `boundMs`.
 * Prints the chaos table line `chaos: <scenario> <transport> fault->resume <ms> ms (bound <ms> ms)`.
 */
export async function faultToResume(debuggee: Debuggee, scenario: string, transport: string, boundMs: number, fault: () => unknown): Promise<number> {
  await expectPaused(debuggee);
  const from = debuggee.outputLength();
  const started = performance.now();
  const resumed = debuggee.waitForOutput(/tick \d+/, boundMs, from);
  resumed.catch(() => undefined); // awaited below, unless the fault itself fails
  await fault();
  await resumed.catch((error: unknown) => {
    console.log(`chaos: ${scenario} ${transport} fault->resume over ${boundMs} ms (bound ${boundMs} ms): FAILED`);
    throw new Error(`${scenario} over ${transport}: the program did not print again within its bound of ${boundMs} ms`, { cause: error });
  });
  const elapsed = Math.round(performance.now() - started);
  console.log(`chaos: ${scenario} ${transport} fault->resume ${elapsed} ms (bound ${boundMs} ms)`);
  return elapsed;
}

/**
 * The target is debuggable again: listed by the relay, a new session attaches, stops
 * at the handler breakpoint, continues, disconnects, and the program runs on.
 */
export async function expectAttachableAgain(access: ClientAccess, name: string, debuggee: Debuggee, listedWithinMs = 20_000): Promise<void> {
  await attachAndContinue(access, name, debuggee, listedWithinMs).catch((error: unknown) => {
    throw new Error(`target ${name} is not debuggable again: ${(error as Error).message}`, { cause: error });
  });
}

async function attachAndContinue(access: ClientAccess, name: string, debuggee: Debuggee, listedWithinMs: number): Promise<void> {
  await waitForTargets(access, (targets) => targets.some((t) => t.name === name && t.sessions === 0), listedWithinMs);
  const attach = await startAttach(access, name);
  try {
    const { client, threadId } = await pauseAtHandler(attach.address.port);
    await client.request('continue', { threadId });
    await client.request('disconnect', { terminateDebuggee: false });
    await client.close();
    const from = debuggee.outputLength();
    await debuggee.waitForOutput(/tick \d+\n(.|\n)*tick \d+/, 10_000, from);
  } finally {
    await attach.close();
  }
}
