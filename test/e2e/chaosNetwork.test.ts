import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBlackHoleProxy } from '../support/net/blackHoleProxy.js';
import { bridgeDetachBoundMs, chaosAgentHeartbeat, chaosHeartbeat, chaosRelaySettings, expectAttachableAgain, faultToResume, pauseAtHandler } from '../support/harness/chaosKit.js';
import { startDebuggee, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { startAttach, waitForTargets } from '../support/relay/relayClient.js';

/**
 * The chaos suite, faults that leave no trace on the wire: the agent's bridge process
 * frozen with SIGSTOP, and a network black hole between the agent and the relay. In
 * both the program is paused at a breakpoint through the real relay; it must print
 * again within its bound (printed as a `chaos:` line) and be debuggable again once
 * the fault is over.
 *
 * The black hole is a TCP proxy of the test's own (support/blackHoleProxy.ts) that the
 * agent dials instead of the relay: on command it stops reading and forwarding both
 * ways and passes no FIN or RST, with every socket left open. For TCP payloads that is
 * what dropped packets look like to both ends. Two things differ: TCP keepalive probes
 * are answered by the proxy's kernel, and bytes the bridge sends are still acknowledged
 * until the proxy's receive window fills (so TCP_USER_TIMEOUT does not fire). Both are
 * the bridge's 30 s floor (agent-py/dbgrelay/bridge/liveness.py), far above the bounds
 * here, so neither could be what finds the fault; the application heartbeat must.
 * Network namespaces with a veth pair and `ip link set down` would drop those too, but
 * they need non-loopback addresses (the suite stays on loopback), root, a debuggee
 * started inside `ip netns exec`, and leave state behind when a run dies; the proxy
 * needs none of that.
 */
const targetName = (scenario: string, scheme: string): string => `chaos-${scenario}-${scheme}`;
const debuggees: Debuggee[] = [];
let relay: E2eRelay;

beforeAll(async () => {
  relay = await startE2eRelay({ overrides: chaosRelaySettings });
});
afterAll(async () => {
  for (const debuggee of debuggees) {
    for (const pid of debuggee.family()) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    debuggee.kill();
  }
  await relay?.stop();
});

/** The pause guard's bound for a pause nobody owns (`--unowned-pause`, seconds), short for the test. */
const unownedPauseS = 2;
/** The guard's other bounds, from agent-py/dbgrelay/options/guard.py: bridge report timeout and poll interval. */
const ownerReportTimeoutS = 1.5;
const guardPollIntervalS = 0.25;
/** pydevd's waiting threads see a resume within TIMEOUT_SLOW (0.2 s). */
const pydevdWakeS = 0.2;
/**
 * A frozen bridge is seen stale after the report timeout (at the guard's next poll), the
 * pause is unowned from that poll on, and once it has been unowned for `unowned_pause`
 * the guard's next poll resumes it: within the report timeout, `unowned_pause`, two
 * polls and pydevd's wake-up from the fault.
 */
const frozenBridgeBoundMs = (unownedPauseS + ownerReportTimeoutS + 2 * guardPollIntervalS + pydevdWakeS) * 1000;
/** The bridge's liveness report interval (agent-py/dbgrelay/bridge/guardreport.py). */
const bridgeReportIntervalS = 0.5;
/** The earliest a frozen bridge's owned pause may be resumed, counted from the fault. */
const frozenBridgeFloorMs = (unownedPauseS + ownerReportTimeoutS - bridgeReportIntervalS) * 1000;

/**
 * How long the bridge lets a data connection stay silent before it takes the relay as
 * gone (docs/protocol.md §6): over tcps the relay's `heartbeatTimeoutMs` answer to the
 * bridge's `heartbeatMs` (the `registered` interval), i.e. max(`heartbeat.timeoutMs`,
 * 3 intervals); over wss the `registered` message's `heartbeat.timeoutMs`.
 */
const bridgeSilenceBoundMs = {
  tcps: Math.max(chaosHeartbeat.timeoutMs, 3 * chaosAgentHeartbeat.heartbeatIntervalMs),
  wss: chaosAgentHeartbeat.heartbeatTimeoutMs,
} as const;

/** The bridge process among the debuggee's family (its argv runs `dbgrelay.bridge`). */
function bridgePid(debuggee: Debuggee): number {
  const pids = debuggee.family().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('dbgrelay.bridge');
    } catch {
      return false;
    }
  });
  if (pids.length !== 1) throw new Error(`expected one bridge process, found ${pids.length}`);
  return pids[0]!;
}

describe.each(['tcps', 'wss'] as const)('over %s', (scheme) => {
  it('SIGSTOP of the bridge: the pause guard inside the program resumes it; after SIGCONT the target is attachable', async () => {
    const name = targetName('sigstop', scheme);
    const access = relay.access(scheme);
    const debuggee = startDebuggee({
      relayUrl: access.relayUrl,
      name,
      secret: access.secret,
      caFile: access.caFile,
      extraArgs: ['--unowned-pause', String(unownedPauseS)],
    });
    debuggees.push(debuggee);
    await waitForTargets(access, (targets) => targets.some((t) => t.name === name));
    const bridge = bridgePid(debuggee);
    const attach = await startAttach(access, name);
    try {
      const { client } = await pauseAtHandler(attach.address.port);
      // Let the bridge report at least once that this session owns the pause (it reports
      // every 0.5 s): a pause it never reported as owned is unowned from its first poll.
      await new Promise((resolve) => setTimeout(resolve, 2 * bridgeReportIntervalS * 1000));
      const elapsed = await faultToResume(debuggee, 'bridge-sigstop', scheme, frozenBridgeBoundMs, () => process.kill(bridge, 'SIGSTOP'));
      // The pause was owned until the reports went stale: not resumed before the last report
      // (at most one interval before the fault) is older than the timeout, plus unowned_pause.
      expect(elapsed).toBeGreaterThanOrEqual(frozenBridgeFloorMs);
      process.kill(bridge, 'SIGCONT');
      await client.close();
    } finally {
      await attach.close();
    }
    expect(bridgePid(debuggee)).toBe(bridge); // the same bridge, woken up, serves again
    await expectAttachableAgain(access, name, debuggee, 30_000);
    debuggee.kill();
  });

  it('a black hole between agent and relay: the bridge finds it within its liveness bound and detaches; after it heals the target is attachable', async () => {
    const name = targetName('blackhole', scheme);
    const access = relay.access(scheme);
    const proxy = await startBlackHoleProxy(Number(new URL(access.relayUrl).port));
    try {
      const debuggee = startDebuggee({ relayUrl: `${scheme}://127.0.0.1:${proxy.port}`, name, secret: access.secret, caFile: access.caFile });
      debuggees.push(debuggee);
      await waitForTargets(access, (targets) => targets.some((t) => t.name === name));
      const attach = await startAttach(access, name);
      try {
        const { client } = await pauseAtHandler(attach.address.port);
        expect(proxy.accepted).toBe(2); // control and data connection both pass the proxy
        // The bridge's deadline on its data connection passes; then it detaches the adapter itself.
        await faultToResume(debuggee, 'black-hole', scheme, bridgeSilenceBoundMs[scheme] + bridgeDetachBoundMs, () => proxy.blackHole());
        proxy.heal();
        await client.close();
      } finally {
        await attach.close();
      }
      await expectAttachableAgain(access, name, debuggee, 30_000);
      debuggee.kill();
    } finally {
      await proxy.close();
    }
  });
});
