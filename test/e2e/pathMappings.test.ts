import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAttachCli } from '../support/processes/cliProcess.js';
import { startDebuggee, webAppPath, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { waitForTargets } from '../support/relay/relayClient.js';

/**
 * Paths that map: the agent reports where its program runs from (`cwd`, `root`),
 * `dbgrelay targets` lists it, and `dbgrelay attach` prints a launch configuration whose
 * `remoteRoot` is that root, so breakpoints set in the local checkout are found.
 */
const children: ChildProcess[] = [];
const debuggees: Debuggee[] = [];
let relay: E2eRelay;

beforeAll(async () => {
  relay = await startE2eRelay();
});
afterAll(async () => {
  for (const debuggee of debuggees) debuggee.kill();
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await relay?.stop();
});

/** The launch configuration `dbgrelay attach` printed, and the line after it. */
async function printedLaunch(name: string): Promise<{ remoteRoot: string; note: string }> {
  const { attach } = await runAttachCli(relay.access('tcps'), name, children);
  await attach.waitFor(/Press Ctrl\+C to stop\./);
  const text = attach.output();
  const json = text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1);
  const config = JSON.parse(json) as { pathMappings: { localRoot: string; remoteRoot: string }[] };
  const note = text
    .slice(text.lastIndexOf('}') + 1)
    .trim()
    .split('\n')[0]!;
  await attach.stop();
  return { remoteRoot: config.pathMappings[0]!.remoteRoot, note };
}

describe('paths that map', () => {
  it('a script: root is its directory, cwd where it was started; attach prints that root', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'dbgrelay-cwd-'));
    const debuggee = startDebuggee({ ...relay.access('tcps'), name: 'paths-script', cwd });
    debuggees.push(debuggee);
    const targets = await waitForTargets(relay.access('tcps'), (t) => t.some((x) => x.name === 'paths-script'));
    const entry = targets.find((t) => t.name === 'paths-script')!;
    expect(entry.root).toBe(dirname(webAppPath));
    expect(entry.cwd).toBe(cwd);
    const { remoteRoot, note } = await printedLaunch('paths-script');
    expect(remoteRoot).toBe(dirname(webAppPath));
    expect(note).toContain('the agent reported it');
    debuggee.kill();
  });

  it('a module: root is the sys.path entry of its package', async () => {
    const project = mkdtempSync(join(tmpdir(), 'dbgrelay-project-'));
    writeFileSync(join(project, 'pathsmod.py'), 'import time\nwhile True:\n    time.sleep(0.1)\n');
    const debuggee = startDebuggee({ ...relay.access('tcps'), name: 'paths-module', cwd: project, script: '-m', scriptArgs: ['pathsmod'] });
    debuggees.push(debuggee);
    const targets = await waitForTargets(relay.access('tcps'), (t) => t.some((x) => x.name === 'paths-module'));
    expect(targets.find((t) => t.name === 'paths-module')!.root).toBe(project);
    debuggee.kill();
  });
});
