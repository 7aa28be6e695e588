import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { formatTargetsTable } from '../../src/cli/targetsCommand.js';
import { markerLine, startDebuggee, webAppPath, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { attachSession, listTargets, startAttach, waitForStop, waitForTargets, type ClientAccess } from '../support/relay/relayClient.js';

/**
 * The pause guard inside the debuggee with the real relay, agent and debugpy
 * (docs/operations.md "Pause guard inside the debuggee", protocol revision 1.8): a
 * pause its stopped bridge no longer owns is resumed and audited as `guard.resumed`;
 * a debuggee whose debugger broke is listed `DEBUGGER BROKEN`.
 */
let relay: E2eRelay;
let access: ClientAccess;
let debuggee: Debuggee;
const name = 'guarded-app';
const unownedPauseS = 2;

beforeAll(async () => {
  // a long agent heartbeat timeout: the bridge is stopped for a few seconds on purpose
  relay = await startE2eRelay({ overrides: { agents: { heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 20_000 } } });
  access = { relayUrl: relay.wssUrl, caFile: relay.caFile, secret: relay.secret };
  debuggee = startDebuggee({ relayUrl: relay.wssUrl, name, secret: relay.secret, caFile: relay.caFile, extraArgs: ['--unowned-pause', String(unownedPauseS)] });
  await waitForTargets(access, (t) => t.some((x) => x.name === name && x.debugger === 'ok'), 30_000);
}, 60_000);

afterAll(async () => {
  debuggee?.kill();
  await relay?.stop();
});

/** The debuggee's processes other than itself whose command line contains `needle`. */
function familyMember(needle: string): number {
  const pid = debuggee
    .family()
    .filter((p) => p !== debuggee.process.pid)
    .find((p) => readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(needle));
  if (pid === undefined) throw new Error(`no process of the debuggee runs ${needle}`);
  return pid;
}

function auditLines(): Array<Record<string, unknown>> {
  return readFileSync(join(relay.dataDir, 'audit.log'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('pause guard inside the debuggee', () => {
  it('resumes a pause whose bridge is stopped, and the relay audits it', async () => {
    const attach = await startAttach(access, name);
    const bridge = familyMember('dbgrelay.bridge');
    try {
      const client = await attachSession(attach.address.port, { breakpoints: { path: webAppPath, lines: [{ line: markerLine('HANDLE') }] } });
      await waitForStop(client, 'breakpoint');
      const from = debuggee.outputLength();
      process.kill(bridge, 'SIGSTOP');
      try {
        // stale bridge reports (1.5 s) on a pause older than unowned_pause: resumed, breakpoints dropped
        await debuggee.waitForOutput(/tick \d+/, (unownedPauseS + 1.5 + 4) * 1000, from);
      } finally {
        process.kill(bridge, 'SIGCONT');
      }
      await vi.waitFor(
        () =>
          expect(auditLines().find((l) => l['event'] === 'guard.resumed')).toMatchObject({
            target: name,
            pid: debuggee.process.pid,
            reason: expect.stringContaining('has not reported for'),
            pausedMs: expect.any(Number),
          }),
        { timeout: 10_000, interval: 100 },
      );
      expect(relay.logText()).toContain('the pause guard inside the debuggee resumed it');
      await client.close();
    } finally {
      await attach.close();
    }
  }, 60_000);

  it('lists the target as broken once its debugger cannot work any more', async () => {
    process.kill(familyMember('adapter'), 'SIGKILL'); // pydevd loses its adapter and disposes itself
    const targets = await waitForTargets(access, (t) => t.some((x) => x.name === name && x.debugger === 'broken'), 15_000);
    const entry = targets.find((t) => t.name === name)!;
    expect(entry.detail).toMatch(/disposed|not running/);
    expect(formatTargetsTable(await listTargets(access))).toContain('connected, DEBUGGER BROKEN: ');
    // the program itself runs on
    const from = debuggee.outputLength();
    await debuggee.waitForOutput(/tick \d+/, 5_000, from);
  }, 30_000);
});
