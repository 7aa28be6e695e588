import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DapRequestError } from '../support/dap/dapTestClient.js';
import { chaosRelaySettings, expectAttachableAgain, pauseAtHandler } from '../support/harness/chaosKit.js';
import { markerLine, startDebuggee, webAppPath, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { attachSession, startAttach, waitForTargets } from '../support/relay/relayClient.js';

/**
 * The chaos suite, the continue race: two threads pass breakpoints every few
 * milliseconds, and the client answers each `stopped` with a `continue` 0 to 50 ms
 * later, a few hundred times through the real relay and agent, so that a `continue`
 * keeps crossing the other thread's `stopped` on the wire. Every `continue` must be
 * answered, the program must stop again each time (nothing is left suspended with no
 * one told), and once the breakpoints are gone both threads must run on.
 */
const raceAppPath = join(webAppPath, '..', 'raceApp.py');
const breakpointLines = [markerLine('RACE_A', raceAppPath), markerLine('RACE_B', raceAppPath)];
/**
 * Stop/continue rounds to run, and the bound on all of them: a round takes 60-140 ms
 * (the 0-50 ms think time, the debuggee's next hit), 19 s for 300 on an idle machine
 * and 42 s seen inside the whole suite on 2 busy cores; the bound only keeps a stuck
 * run from hanging (each answer has its own bound below).
 */
const rounds = 300;
const roundsBoundMs = 120_000;
/** Bound on one `continue` answer and on the next `stopped` after it. */
const stepBoundMs = 10_000;
/** Continue delays cycle through 0..50 ms (deterministic, so a failing run can be replayed). */
const delayFor = (round: number): number => (round * 17) % 51;

let relay: E2eRelay;
let debuggee: Debuggee;
const name = 'chaos-race-tcps';

beforeAll(async () => {
  relay = await startE2eRelay({ overrides: chaosRelaySettings });
  const access = relay.access('tcps');
  debuggee = startDebuggee({ relayUrl: access.relayUrl, name, secret: access.secret, caFile: access.caFile, script: raceAppPath });
  await waitForTargets(access, (targets) => targets.some((t) => t.name === name));
});
afterAll(async () => {
  debuggee?.kill();
  await relay?.stop();
});

/** Resolves once two later `tick` lines show both threads' counts grown. */
async function expectBothThreadsRunning(): Promise<void> {
  const from = debuggee.outputLength();
  const ticks = /tick \d+ a=(\d+) b=(\d+)\n/g;
  await debuggee.waitForOutput(/tick[^\n]*\n(.|\n)*tick[^\n]*\n(.|\n)*tick[^\n]*\n/, stepBoundMs, from);
  const seen = [...debuggee.output().slice(from).matchAll(ticks)].map((m) => [Number(m[1]), Number(m[2])] as const);
  const [first, last] = [seen[0]!, seen[seen.length - 1]!];
  expect(last[0], 'thread A is not running').toBeGreaterThan(first[0]);
  expect(last[1], 'thread B is not running').toBeGreaterThan(first[1]);
}

describe('the continue race over tcps', () => {
  it(
    `answers every continue sent 0-50 ms after a stopped, ${rounds} times, and the program runs at the end`,
    async () => {
      const attach = await startAttach(relay.access('tcps'), name);
      try {
        const client = await attachSession(attach.address.port, { breakpoints: { path: raceAppPath, lines: breakpointLines.map((line) => ({ line })) } });
        const started = performance.now();
        const threads = new Set<number>();
        let lastThread = 0;
        for (let round = 0; round < rounds; round++) {
          if (performance.now() - started > roundsBoundMs) throw new Error(`only ${round} of ${rounds} rounds within ${roundsBoundMs} ms`);
          const stopped = await client.waitForEvent<DebugProtocol.StoppedEvent>('stopped', undefined, stepBoundMs).catch((error: unknown) => {
            throw new Error(`round ${round}: the program did not stop again; its output ends:\n${debuggee.output().slice(-1500)}`, { cause: error });
          });
          lastThread = stopped.body.threadId!;
          threads.add(lastThread);
          // The last stop: breakpoints off first, so that the last continue leaves both threads running.
          if (round === rounds - 1) await client.request('setBreakpoints', { source: { path: raceAppPath }, breakpoints: [] });
          await new Promise((r) => setTimeout(r, delayFor(round)));
          await client.request('continue', { threadId: lastThread }, stepBoundMs).catch((error: unknown) => {
            throw new Error(`round ${round}: continue (after ${delayFor(round)} ms) not answered`, { cause: error });
          });
        }
        const elapsed = Math.round(performance.now() - started);
        console.log(`chaos: continue-race tcps ${rounds} rounds in ${elapsed} ms (bound ${roundsBoundMs} ms), ${threads.size} threads stopped`);
        expect(threads.size, 'both threads stopped at their breakpoints').toBe(2);

        // Both threads run although still attached ...
        await expectBothThreadsRunning();
        // ... and after the session ends.
        await client.request('disconnect', { terminateDebuggee: false }, stepBoundMs);
        await client.close();
        await expectBothThreadsRunning();
      } finally {
        await attach.close();
      }
    },
    roundsBoundMs + 4 * stepBoundMs,
  );
});

describe('a continue that arrives when nothing is paused, over tcps', () => {
  const doubleName = 'chaos-double-continue-tcps';
  let webApp: Debuggee;
  beforeAll(async () => {
    const access = relay.access('tcps');
    webApp = startDebuggee({ relayUrl: access.relayUrl, name: doubleName, secret: access.secret, caFile: access.caFile });
    await waitForTargets(access, (targets) => targets.some((t) => t.name === doubleName));
  });
  afterAll(() => webApp?.kill());

  // A stop continued twice (a double F5, or a client that answers a stop it already answered):
  // the second continue finds every thread running.
  it('is answered; the session still ends cleanly and the target stays debuggable', async () => {
    const attach = await startAttach(relay.access('tcps'), doubleName);
    try {
      const { client, threadId } = await pauseAtHandler(attach.address.port);
      await client.request('setBreakpoints', { source: { path: webAppPath }, breakpoints: [] });
      await client.request('continue', { threadId }, stepBoundMs);
      const second = await client.request('continue', { threadId }, stepBoundMs).then(
        () => 'answered',
        (error: unknown) => (error instanceof DapRequestError ? 'answered' : (error as Error).message),
      );
      expect(second, 'the second continue').toBe('answered');
      await client.request('disconnect', { terminateDebuggee: false }, stepBoundMs);
      await client.close();
    } finally {
      await attach.close();
    }
    await expectAttachableAgain(relay.access('tcps'), doubleName, webApp);
  });
});
