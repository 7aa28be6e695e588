import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markerLine, venvPython, webAppPath } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { attachSession, evaluate, startAttach, waitForStop, waitForTargets } from '../support/relay/relayClient.js';

/**
 * Attach to a process that is already running (`python -m dbgrelay --pid PID`): the
 * agent is started inside a program that was started without it (through gdb on this
 * Python), registers, and is debugged through the relay; the program runs on after the
 * session. The credential reaches the program through a private file, never its
 * command line or environment.
 */
const app = join(webAppPath, '..', 'runningApp.py');
const children: ChildProcess[] = [];
let relay: E2eRelay;

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(venvPython, args, { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

/** The running program: its process and what it printed so far. */
function startProgram(): { child: ChildProcess; output: () => string } {
  const child = spawn(venvPython, ['-Xfrozen_modules=off', app], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', PYDEVD_DISABLE_FILE_VALIDATION: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  return { child, output: () => output };
}

async function printedAgain(program: { output: () => string }, timeoutMs = 10_000): Promise<void> {
  const before = program.output().length;
  const deadline = Date.now() + timeoutMs;
  while (!/count \d+/.test(program.output().slice(before))) {
    if (Date.now() > deadline) throw new Error('the program stopped printing');
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  relay = await startE2eRelay();
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await relay?.stop();
});

describe('python -m dbgrelay --pid', () => {
  it('starts the agent in a running program, which is then debugged through the relay and runs on', async () => {
    const program = startProgram();
    await printedAgain(program);
    const started = Date.now();
    const injected = await run(['-m', 'dbgrelay', '--relay', relay.tcpsUrl, '--name', 'running-{pid}', '--ca', relay.caFile, '--pid', String(program.child.pid)], {
      DBGRELAY_SECRET: relay.secret,
    });
    console.log(`inject: agent started in a running process in ${Date.now() - started} ms`);
    expect(injected.code, injected.output).toBe(0);
    expect(injected.output).toContain(`the agent runs in process ${program.child.pid} as target 'running-${program.child.pid}'`);
    expect(injected.output).not.toContain(relay.secret);
    const name = `running-${program.child.pid}`;
    await waitForTargets(relay.access('tcps'), (t) => t.some((x) => x.name === name));
    await printedAgain(program); // never paused by the injection

    const attach = await startAttach(relay.access('tcps'), name);
    try {
      const client = await attachSession(attach.address.port, { breakpoints: { path: app, lines: [{ line: markerLine('STEP', app) }] } });
      const { event, frame } = await waitForStop(client, 'breakpoint', 20_000);
      const count = await evaluate(client, 'count', frame.id);
      console.log(`demo: attached to ${name}, stopped at ${frame.source?.path}:${frame.line} in ${frame.name}(), count = ${count}`);
      expect(Number(count)).toBeGreaterThan(10);
      await client.request('setBreakpoints', { source: { path: app }, breakpoints: [] });
      await client.request('continue', { threadId: event.body.threadId });
      await client.request('disconnect', { terminateDebuggee: false });
      await client.close();
    } finally {
      await attach.close();
    }
    await printedAgain(program);
    const again = await run(['-m', 'dbgrelay', '--relay', relay.tcpsUrl, '--name', 'twice', '--ca', relay.caFile, '--pid', String(program.child.pid)], {
      DBGRELAY_SECRET: relay.secret,
    });
    expect(again.code).toBe(2);
    expect(again.output).toContain('already runs a dbgrelay agent');
    // the credential is in no command line or environment of the program or its agent
    for (const pid of [program.child.pid!]) {
      const { readFileSync } = await import('node:fs');
      expect(readFileSync(`/proc/${pid}/environ`, 'latin1')).not.toContain(relay.secret);
      expect(readFileSync(`/proc/${pid}/cmdline`, 'latin1')).not.toContain(relay.secret);
    }
  });

  it('refuses a process that opted out of remote debugging, leaving it running', async () => {
    const optedOut = spawn(venvPython, [app], { env: { PATH: '/usr/bin:/bin', PYTHON_DISABLE_REMOTE_DEBUG: '1' }, stdio: 'ignore' });
    children.push(optedOut);
    await new Promise((r) => setTimeout(r, 300));
    const refused = await run(['-m', 'dbgrelay', '--relay', relay.tcpsUrl, '--name', 'opted-out', '--ca', relay.caFile, '--pid', String(optedOut.pid)], {
      DBGRELAY_SECRET: relay.secret,
    });
    expect(refused.code).toBe(2);
    expect(refused.output).toContain('opted out of remote debugging (PYTHON_DISABLE_REMOTE_DEBUG');
    expect(optedOut.exitCode).toBe(null);
  });
});
