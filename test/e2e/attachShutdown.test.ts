import type { ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markerLine, webAppPath, type Debuggee } from '../support/processes/debuggee.js';
import { runAttachCli } from '../support/processes/cliProcess.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { attachSession, startListedDebuggee, waitForStop } from '../support/relay/relayClient.js';

/**
 * Ctrl+C on `dbgrelay attach` while VS Code is attached and the program is paused:
 * the process ends (it once stayed behind at 100% CPU, in Node's exit cleanup, with a
 * half-closed TLS connection to the relay), and the relay detaches the debugger so the
 * program runs on.
 */
let relay: E2eRelay;
const children: ChildProcess[] = [];
beforeAll(async () => {
  relay = await startE2eRelay();
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await relay?.stop();
});

describe.each(['wss', 'tcps'] as const)('dbgrelay attach over %s stopped with Ctrl+C during a session', (scheme) => {
  const name = `shutdown-${scheme}`;
  let debuggee: Debuggee;

  beforeAll(async () => {
    debuggee = await startListedDebuggee(relay.access(scheme), name);
  });
  afterAll(() => debuggee?.kill());

  it('exits, and the paused program runs on', async () => {
    const { attach, port } = await runAttachCli(relay.access(scheme), name, children);
    const client = await attachSession(port, {
      attachArguments: { pathMappings: [{ localRoot: dirname(webAppPath), remoteRoot: dirname(webAppPath) }] },
      breakpoints: { path: webAppPath, lines: [{ line: markerLine('HANDLE') }] },
    });
    await waitForStop(client, 'breakpoint');

    const from = debuggee.outputLength();
    attach.child.kill('SIGINT');
    // A liveness bound, not a timing measurement: without the fix the process never exits.
    const exitCode = await Promise.race([attach.exited, new Promise<string>((r) => setTimeout(() => r('still running after 10 s'), 10_000))]);
    expect(exitCode, attach.output()).toBe(0);
    expect(attach.output()).toContain('SIGINT, closing');
    await debuggee.waitForOutput(/tick \d+/, 15_000, from);
    await client.close();
  });
});
