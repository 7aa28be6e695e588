import type { ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markerLine, webAppPath, type Debuggee } from '../support/processes/debuggee.js';
import { runAttachCli } from '../support/processes/cliProcess.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { attachSession, startListedDebuggee, waitForStop } from '../support/relay/relayClient.js';

/**
 * Half-open client connections: the `dbgrelay attach` process is frozen
 * with SIGSTOP while the program is paused at a breakpoint. Its kernel keeps the TCP
 * connection up (no FIN, no RST), exactly as when the engineer's laptop drops off the
 * network; only the heartbeat finds it. The relay must close the connection, detach
 * the debugger and let the program run again.
 */
const heartbeat = { intervalMs: 200, timeoutMs: 1_000 };

let relay: E2eRelay;
const children: ChildProcess[] = [];
beforeAll(async () => {
  relay = await startE2eRelay({ overrides: { heartbeat } });
});
afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
  }
  await relay?.stop();
});

describe.each(['wss', 'tcps'] as const)('a client that goes silent over %s without closing', (scheme) => {
  const name = `halfopen-${scheme}`;
  let debuggee: Debuggee;

  beforeAll(async () => {
    debuggee = await startListedDebuggee(relay.access(scheme), name);
  });
  afterAll(() => debuggee?.kill());

  it('is found by the heartbeat, detached, and the program runs again', async () => {
    const { attach, port } = await runAttachCli(relay.access(scheme), name, children, ['--heartbeat-interval', String(heartbeat.intervalMs)]);
    const client = await attachSession(port, {
      attachArguments: { pathMappings: [{ localRoot: dirname(webAppPath), remoteRoot: dirname(webAppPath) }] },
      breakpoints: { path: webAppPath, lines: [{ line: markerLine('HANDLE') }] },
    });
    await waitForStop(client, 'breakpoint');
    // A paused program prints nothing from its main loop; several heartbeat periods pass first.
    await new Promise((r) => setTimeout(r, 3 * heartbeat.intervalMs));
    expect(await relay.handle.metrics.valueOf('dbgrelay_sessions_active')).toBe(1); // heartbeats kept the live session up
    const missesBefore = await relay.handle.metrics.valueOf('dbgrelay_session_heartbeat_misses_total', { via: scheme });

    const from = debuggee.outputLength();
    attach.child.kill('SIGSTOP');
    // Detached and resumed: the main loop ticks again although the client never closed.
    await debuggee.waitForOutput(/tick \d+/, 15_000, from);
    expect(await relay.handle.metrics.valueOf('dbgrelay_session_heartbeat_misses_total', { via: scheme })).toBe(missesBefore + 1);
    // The session ends once the detach finished (the program may resume a moment before).
    const deadline = Date.now() + 10_000;
    while ((await relay.handle.metrics.valueOf('dbgrelay_sessions_active')) !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await relay.handle.metrics.valueOf('dbgrelay_sessions_active')).toBe(0);
    const log = relay.logText();
    expect(log).toMatch(/connection closed as half-open: heartbeat deadline passed/);
    expect(log).toMatch(new RegExp(`"target":"${name}".*"code":"HEARTBEAT_TIMEOUT".*"msg":"session ended"`));

    // Woken up, the attach process finds its relay connection gone and ends the DAP client's session.
    attach.child.kill('SIGCONT');
    await client.closed;
    attach.child.kill('SIGKILL');
    await client.close();
  });
});
