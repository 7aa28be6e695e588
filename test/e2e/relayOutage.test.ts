import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDebuggee, type Debuggee } from '../support/processes/debuggee.js';
import { startRelayProcess, type RelayProcess } from '../support/processes/relayProcess.js';
import { listTargets, waitForTargets } from '../support/relay/relayClient.js';

/**
 * A relay outage as production sees it: the agent's program never waits for the relay,
 * and comes back within seconds when the relay does. The outage lasts long enough for
 * the agent's backoff to reach its cap (agent-py/dbgrelay/backoff.py, 5 s), so the time
 * measured is the worst case: up to one capped wait plus the handshake.
 */
const backoffCapMs = 5_000;
/** The handshake, the relay's first answers on a 2-core machine, and the 100 ms listing poll. */
const marginMs = 3_000;
const outageMs = 15_000;
const schemes = ['tcps', 'wss'] as const;
const children: ChildProcess[] = [];
const debuggees: Debuggee[] = [];

afterAll(() => {
  for (const debuggee of debuggees) debuggee.kill();
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Milliseconds until `name` is listed again, polling every 100 ms. */
async function msUntilListed(relay: RelayProcess, name: string, since: number): Promise<number> {
  for (;;) {
    const targets = await listTargets(relay.access('tcps')).catch(() => []);
    if (targets.some((t) => t.name === name)) return Date.now() - since;
    if (Date.now() - since > backoffCapMs + marginMs + 10_000) throw new Error(`${name} not registered again within ${Date.now() - since} ms`);
    await sleep(100);
  }
}

describe('a relay outage', () => {
  let relay: RelayProcess;
  beforeAll(async () => {
    relay = await startRelayProcess({}, children);
  });
  afterAll(() => relay?.kill9());

  it('does not stop a program that starts while the relay is down; the agent registers when it comes up', async () => {
    await relay.kill9();
    const debuggee = startDebuggee({ relayUrl: relay.tcpsUrl, name: 'outage-start', secret: relay.secret, caFile: relay.caFile });
    debuggees.push(debuggee);
    await debuggee.waitForOutput(/worker \d+/, 15_000); // the program runs although nothing answers
    const failures = debuggee.output().match(/control connection to \S+ failed/g) ?? [];
    expect(failures).toHaveLength(1); // once per change, not once per retry
    relay = await relay.restart();
    await waitForTargets(relay.access('tcps'), (t) => t.some((x) => x.name === 'outage-start'), backoffCapMs + marginMs);
    // said once it is over (the line may come a moment after the relay lists the target)
    await debuggee.waitForOutput(/registered target 'outage-start' with \S+ after \d+ failed attempts/, 5_000);
    debuggee.kill();
  });

  it(`registers the agents again within the backoff cap after a ${outageMs / 1000} s outage, over tcps and wss, the programs running throughout`, async () => {
    const names = schemes.map((scheme) => `outage-${scheme}`);
    const started = schemes.map((scheme, i) => startDebuggee({ ...relay.access(scheme), relayUrl: relay.access(scheme).relayUrl, name: names[i]!, caFile: relay.caFile }));
    debuggees.push(...started);
    await waitForTargets(relay.access('tcps'), (t) => names.every((n) => t.some((x) => x.name === n)));
    await relay.kill9();
    const printedBefore = started.map((d) => d.outputLength());
    await sleep(outageMs);
    for (const [i, debuggee] of started.entries()) {
      expect(debuggee.process.exitCode).toBe(null);
      await debuggee.waitForOutput(/worker \d+/, 5_000, printedBefore[i]); // still working during the outage
    }
    relay = await relay.restart();
    const since = Date.now();
    const took = await Promise.all(names.map((name) => msUntilListed(relay, name, since)));
    console.log(`reregister: ${names.map((n, i) => `${n} ${took[i]} ms`).join(', ')} after a ${outageMs} ms outage (backoff cap ${backoffCapMs} ms)`);
    for (const ms of took) expect(ms).toBeLessThanOrEqual(backoffCapMs + marginMs);
    for (const debuggee of started) debuggee.kill();
  });
});
