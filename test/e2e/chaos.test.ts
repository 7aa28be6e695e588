import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAttachCli } from '../support/processes/cliProcess.js';
import { startPausingDapClient } from '../support/dap/pausingDapClient.js';
import {
  bridgeDetachBoundMs,
  chaosDetachTimeoutMs,
  chaosRelaySettings,
  expectAttachableAgain,
  faultToResume,
  handleBreakpoint,
  pauseAtHandler,
} from '../support/harness/chaosKit.js';
import { startDebuggee, webAppPath, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { startRelayProcess, type RelayProcess } from '../support/processes/relayProcess.js';
import { startAttach, waitForTargets, type ClientAccess } from '../support/relay/relayClient.js';

/**
 * The chaos suite, processes killed with SIGKILL while a real program is paused at a
 * breakpoint through the real relay: the relay itself, the `dbgrelay attach` process,
 * and the DAP client. Each fault must leave the program printing again within its
 * bound (the time is printed as a `chaos:` line) and the target debuggable again. The
 * program's own pause guard is left at its default (30 s), far above every bound
 * here, so what resumes the program is the layer under test. Network faults are in
 * chaosNetwork.test.ts, hostile requests in chaosHostile.test.ts, the continue race
 * in chaosRace.test.ts.
 */
const schemes = ['tcps', 'wss'] as const;
const children: ChildProcess[] = [];
const debuggees: Debuggee[] = [];

afterAll(() => {
  for (const debuggee of debuggees) debuggee.kill();
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts the web app under the agent as target `name` and waits until the relay lists it. */
async function listedDebuggee(access: ClientAccess, name: string): Promise<Debuggee> {
  const debuggee = startDebuggee({ relayUrl: access.relayUrl, name, secret: access.secret, caFile: access.caFile });
  debuggees.push(debuggee);
  await waitForTargets(access, (targets) => targets.some((t) => t.name === name));
  return debuggee;
}

/** Resolves when `promise` does; rejects after `ms`, naming `what`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('kill -9 of the relay while the program is paused', () => {
  let relay: RelayProcess;
  beforeAll(async () => {
    relay = await startRelayProcess(chaosRelaySettings, children);
  });
  afterAll(() => relay?.kill9());

  it.each(schemes)('over %s: the bridge detaches at once; the restarted relay gets the target back, attachable', async (scheme) => {
    const name = `chaos-relay-${scheme}`;
    const debuggee = await listedDebuggee(relay.access(scheme), name);
    const attach = await startAttach(relay.access(scheme), name);
    try {
      const { client } = await pauseAtHandler(attach.address.port);
      // The bridge's data connection ends with the relay's process (the kernel closes it): the bridge must detach.
      await faultToResume(debuggee, 'relay-kill-9', scheme, bridgeDetachBoundMs, () => relay.kill9());
      await within(client.closed, 10_000, 'the DAP client session ending after the relay died');
    } finally {
      await attach.close();
    }
    relay = await relay.restart();
    await expectAttachableAgain(relay.access(scheme), name, debuggee, 30_000);
    debuggee.kill();
  });
});

describe('with an in-process relay', () => {
  let relay: E2eRelay;
  beforeAll(async () => {
    relay = await startE2eRelay({ overrides: chaosRelaySettings });
  });
  afterAll(() => relay?.stop());

  it.each(schemes)('kill -9 of `dbgrelay attach` over %s: the relay detaches within sessions.detachTimeoutMs', async (scheme) => {
    const name = `chaos-attach-${scheme}`;
    const debuggee = await listedDebuggee(relay.access(scheme), name);
    const { attach, port } = await runAttachCli(relay.access(scheme), name, children);
    const { client } = await pauseAtHandler(port);
    await faultToResume(debuggee, 'attach-cli-kill-9', scheme, chaosDetachTimeoutMs, () => attach.child.kill('SIGKILL'));
    await within(client.closed, 5_000, 'the DAP client session ending with its attach process');
    expect(await attach.exited).toBe(null); // killed by the signal
    await expectAttachableAgain(relay.access(scheme), name, debuggee);
    debuggee.kill();
  });

  it.each(schemes)('kill -9 of the DAP client over %s: `dbgrelay attach` and the relay detach; the same attach port serves again', async (scheme) => {
    const name = `chaos-client-${scheme}`;
    const debuggee = await listedDebuggee(relay.access(scheme), name);
    const { attach, port } = await runAttachCli(relay.access(scheme), name, children);
    try {
      const dapClient = startPausingDapClient(port, webAppPath, handleBreakpoint.lines[0]!.line, children);
      expect(await dapClient.stopped).toBe(handleBreakpoint.lines[0]!.line);
      await faultToResume(debuggee, 'dap-client-kill-9', scheme, chaosDetachTimeoutMs, () => dapClient.child.kill('SIGKILL'));
      expect(attach.child.exitCode).toBe(null); // the attach process serves on
      await expectAttachableAgain(relay.access(scheme), name, debuggee);
      // ... and so does its port: a new DAP client there attaches and stops again.
      const { client, threadId } = await pauseAtHandler(port);
      await client.request('continue', { threadId });
      await client.request('disconnect', { terminateDebuggee: false });
      await client.close();
    } finally {
      await attach.stop();
    }
    debuggee.kill();
  });
});
