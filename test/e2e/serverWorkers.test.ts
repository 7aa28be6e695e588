import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { TargetInfo } from '../../src/protocol/controlMessages.js';
import { freePort } from '../support/net/loopbackProxies.js';
import { markerLine, startDebuggee, webAppPath, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { attachSession, evaluate, listTargets, startAttach, waitForStop, waitForTargets } from '../support/relay/relayClient.js';

/**
 * Workers of multi-process servers as targets of their own (agent-py/README.md,
 * "Multi-process servers"): each forked worker registers as GROUP/PID with labels
 * saying what forked it, never waits for a client, is debugged by its own name, and
 * leaves the list when it exits.
 */
const servers = join(webAppPath, '..', 'servers');
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

function membersOf(targets: readonly TargetInfo[], group: string): TargetInfo[] {
  return targets.filter((t) => t.name.startsWith(`${group}/`));
}

/** Attaches to `member`, stops at `line` of `file` in it (`poke` makes the program get there), and returns the pid the stopped frame reports. */
async function debugMember(member: string, file: string, line: number, poke?: () => Promise<unknown>): Promise<string> {
  const attach = await startAttach(relay.access('tcps'), member);
  try {
    const client = await attachSession(attach.address.port, { breakpoints: { path: file, lines: [{ line }] } });
    let stopped = false;
    const poking = (async () => {
      while (poke && !stopped) {
        await poke().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    try {
      const { event, frame } = await waitForStop(client, 'breakpoint', 20_000).finally(() => {
        stopped = true;
      });
      const pid = await evaluate(client, '__import__("os").getpid()', frame.id);
      console.log(`demo: attached to ${member}, stopped at ${frame.source?.path}:${frame.line} in ${frame.name}(), os.getpid() = ${pid}`);
      await client.request('setBreakpoints', { source: { path: file }, breakpoints: [] });
      await client.request('continue', { threadId: event.body.threadId });
      await client.request('disconnect', { terminateDebuggee: false });
      return pid;
    } finally {
      stopped = true;
      await poking;
      await client.close();
    }
  } finally {
    await attach.close();
  }
}

describe('multiprocessing.Pool (fork)', () => {
  it('registers each pool worker as a member, debuggable by name, gone when the pool closes', async () => {
    const app = join(servers, 'poolApp.py');
    const debuggee = startDebuggee({ ...relay.access('tcps'), name: 'pool-1', script: app });
    debuggees.push(debuggee);
    const targets = await waitForTargets(relay.access('tcps'), (t) => membersOf(t, 'pool-1').length === 2 && t.some((x) => x.name === 'pool-1'));
    await debuggee.waitForOutput(/tasks \d+/); // the pool works although nobody debugs it
    const members = membersOf(targets, 'pool-1');
    for (const member of members) {
      expect(member.name).toBe(`pool-1/${member.pid}`);
      expect(member.labels).toMatchObject({ server: 'multiprocessing', parent: String(debuggee.process.pid) });
    }
    const member = members[0]!;
    expect(await debugMember(member.name, app, markerLine('TASK', app))).toBe(String(member.pid));
    debuggee.trigger('stop-pool');
    await debuggee.waitForOutput(/pool stopped/);
    await waitForTargets(relay.access('tcps'), (t) => membersOf(t, 'pool-1').length === 0, 10_000);
    expect((await listTargets(relay.access('tcps'))).map((t) => t.name)).toContain('pool-1');
  });
});

/**
 * Leaves `member` paused at `line`: the client is warned at attach, and the relay
 * resumes the worker before gunicorn's 6 s --timeout would kill it (6 s - 2 s margin).
 */
async function pausePastTheKillTimer(member: TargetInfo, file: string, line: number, poke: () => Promise<unknown>): Promise<void> {
  const attach = await startAttach(relay.access('tcps'), member.name);
  try {
    const client = await attachSession(attach.address.port, { breakpoints: { path: file, lines: [{ line }] } });
    try {
      const warning = await client.waitForEvent<DebugProtocol.OutputEvent>('output', (e) => e.body.output.includes('gunicorn --timeout'));
      expect(warning.body.output).toContain('kills it when it does not answer for 6 s (gunicorn --timeout), so the relay resumes it after 4 s paused');
      const stopPoking = keepPoking(poke);
      await waitForStop(client, 'breakpoint', 20_000).finally(stopPoking);
      const pausedAt = Date.now();
      await client.request('setBreakpoints', { source: { path: file }, breakpoints: [] });
      await client.waitForEvent('continued', () => true, 10_000);
      expect(Date.now() - pausedAt).toBeLessThan(6_000);
      await new Promise((r) => setTimeout(r, 4_000)); // past gunicorn's timeout: the worker was not killed
      expect(() => process.kill(member.pid!, 0)).not.toThrow();
      expect((await listTargets(relay.access('tcps'))).map((t) => t.name)).toContain(member.name);
      await client.request('disconnect', { terminateDebuggee: false });
    } finally {
      await client.close();
    }
  } finally {
    await attach.close();
  }
}

/** Calls `poke` every 200 ms (e.g. an HTTP request, so a worker gets to a breakpoint) until the returned function is called. */
function keepPoking(poke: () => Promise<unknown>): () => void {
  let stopped = false;
  void (async () => {
    while (!stopped) {
      await poke().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return () => {
    stopped = true;
  };
}

/** GET `url` with a short timeout; resolves with the body. */
async function get(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  return response.text();
}

describe('a worker forked while a client is attached to its group', () => {
  it('is announced to that client, as a debugpy subprocess, and not registered as a member', async () => {
    const app = join(servers, 'poolApp.py');
    const debuggee = startDebuggee({ ...relay.access('tcps'), name: 'pool-2', script: app, env: { APP_POOL_ON_TRIGGER: '1' } });
    debuggees.push(debuggee);
    await waitForTargets(relay.access('tcps'), (t) => t.some((x) => x.name === 'pool-2'));
    const attach = await startAttach(relay.access('tcps'), 'pool-2');
    try {
      const client = await attachSession(attach.address.port);
      const announced = new Promise<DebugProtocol.StartDebuggingRequestArguments>((resolve) =>
        client.onReverseRequest('startDebugging', (request) => {
          resolve(request.arguments as DebugProtocol.StartDebuggingRequestArguments);
          return {};
        }),
      );
      debuggee.trigger('start-pool');
      const announcement = await announced;
      expect(announcement.request).toBe('attach');
      expect((announcement.configuration as { subProcessId?: number }).subProcessId).toEqual(expect.any(Number));
      await new Promise((r) => setTimeout(r, 2_000));
      expect(membersOf(await listTargets(relay.access('tcps')), 'pool-2')).toEqual([]);
      await client.request('disconnect', { terminateDebuggee: false });
      await client.close();
    } finally {
      await attach.close();
    }
  }, 60_000);
});

describe('gunicorn sync workers', () => {
  const app = join(servers, 'wsgiApp.py');
  const handle = markerLine('HANDLE', app);

  it('python -m dbgrelay ... -m gunicorn -w 2: the master is the group, each worker a member, debugged by name; a HUP replaces them', async () => {
    const { debuggee, url } = await startGunicorn('web-g', ['-w', '2', '-b', '127.0.0.1:0', '--chdir', servers, '--timeout', '6', 'wsgiApp:app']);
    const targets = await waitForTargets(relay.access('tcps'), (t) => membersOf(t, 'web-g').length === 2 && t.some((x) => x.name === 'web-g'));
    expect(await get(url)).toMatch(/^worker \d+/); // serves while nobody debugs
    const members = membersOf(targets, 'web-g');
    for (const member of members) {
      expect(member.labels).toMatchObject({ server: 'gunicorn', parent: String(debuggee.process.pid), killTimer: '6s (gunicorn --timeout)' });
      expect(member.killTimer).toEqual({ seconds: 6, source: 'gunicorn --timeout' });
      expect(member.labels['worker']).toMatch(/^[12]$/);
    }
    const member = members[0]!;
    expect(await debugMember(member.name, app, handle, () => getThreeAtOnce(url))).toBe(String(member.pid));
    await pausePastTheKillTimer(member, app, handle, () => getThreeAtOnce(url));
    // HUP: gunicorn replaces its workers; the old members leave, the new ones register
    process.kill(debuggee.process.pid!, 'SIGHUP');
    const old = new Set(members.map((m) => m.name));
    await waitForTargets(relay.access('tcps'), (t) => membersOf(t, 'web-g').length === 2 && membersOf(t, 'web-g').every((m) => !old.has(m.name)), 20_000);
  });

  it('gunicorn with uvicorn workers (-k uvicorn.workers.UvicornWorker): each worker a member, debugged by name', async () => {
    const asgi = join(servers, 'asgiApp.py');
    const { debuggee, url } = await startGunicorn('web-u', ['-w', '2', '-k', 'uvicorn.workers.UvicornWorker', '-b', '127.0.0.1:0', '--chdir', servers, 'asgiApp:app']);
    const targets = await waitForTargets(relay.access('tcps'), (t) => membersOf(t, 'web-u').length === 2);
    const [, answering] = (await answered(url, 20_000)).match(/^worker (\d+)/)!;
    for (const member of membersOf(targets, 'web-u')) expect(member.labels).toMatchObject({ server: 'gunicorn', parent: String(debuggee.process.pid) });
    const member = membersOf(targets, 'web-u').find((m) => String(m.pid) === answering)!;
    expect(await debugMember(member.name, asgi, markerLine('HANDLE', asgi), () => getThreeAtOnce(url))).toBe(String(member.pid));
  });

  it('a worker gunicorn recycles after --max-requests leaves the list, its replacement registers', async () => {
    const { url } = await startGunicorn('web-m', ['-w', '1', '--max-requests', '5', '-b', '127.0.0.1:0', '--chdir', servers, 'wsgiApp:app']);
    const [first] = membersOf(await waitForTargets(relay.access('tcps'), (t) => membersOf(t, 'web-m').length === 1), 'web-m');
    for (let i = 0; i < 8; i++) await answered(url, 10_000);
    await waitForTargets(relay.access('tcps'), (t) => membersOf(t, 'web-m').length === 1 && membersOf(t, 'web-m')[0]!.name !== first!.name, 20_000);
  });

  it('a post_fork hook makes each worker a member when the master runs without the agent', async () => {
    const debuggee = startDebuggee({
      relayUrl: relay.tcpsUrl,
      secret: relay.secret,
      name: 'unused',
      // gunicorn itself, not under the agent: the hook in the config file starts it in each worker
      pythonArgs: ['-m', 'gunicorn', '-w', '2', '-b', '127.0.0.1:0', '--chdir', servers, '-c', join(servers, 'gunicornHook.conf.py')],
      script: 'wsgiApp:app',
      env: { DBGRELAY_TEST_RELAY: relay.tcpsUrl, DBGRELAY_TEST_CA: relay.caFile },
    });
    debuggees.push(debuggee);
    const url = await listeningUrl(debuggee);
    const targets = await waitForTargets(relay.access('tcps'), (t) => membersOf(t, 'hooked-1').length === 2);
    expect(targets.map((t) => t.name)).not.toContain('hooked-1');
    const member = membersOf(targets, 'hooked-1')[0]!;
    expect(member.labels).toMatchObject({ server: 'gunicorn' });
    expect(member.killTimer).toEqual({ seconds: 30, source: 'gunicorn --timeout' }); // gunicorn's default, passed by the hook
    expect(await debugMember(member.name, app, handle, () => getThreeAtOnce(url))).toBe(String(member.pid));
  });
});

/** `dbgrelay` running `gunicorn ARGS` as target `name`, and the URL gunicorn listens at. */
async function startGunicorn(name: string, args: string[]): Promise<{ debuggee: Debuggee; url: string }> {
  const debuggee = startDebuggee({ ...relay.access('tcps'), name, script: '-m', scriptArgs: ['gunicorn', ...args] });
  debuggees.push(debuggee);
  return { debuggee, url: await listeningUrl(debuggee) };
}

/** The URL gunicorn says it listens at. */
async function listeningUrl(debuggee: Debuggee): Promise<string> {
  const [, url] = (await debuggee.waitForOutput(/Listening at: (http:\/\/127\.0\.0\.1:\d+)/)).match(/Listening at: (\S+)/)!;
  return url!;
}

/** Three requests to `url` at a time, so that every worker gets some. */
function getThreeAtOnce(url: string): Promise<string[]> {
  return Promise.all([get(url), get(url), get(url)]);
}

/** The body of the first answer of `url`, asked every 100 ms until `timeoutMs`. */
async function answered(url: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await get(url);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('Celery prefork workers (Redis broker)', () => {
  it('registers each pool process as a member with the task time limit, debugged by name; a recycled process is replaced', async () => {
    const port = await freePort();
    const redis = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    children.push(redis);
    const app = join(servers, 'celeryApp.py');
    const debuggee = startDebuggee({ ...relay.access('tcps'), name: 'jobs-1', script: app, cwd: servers, env: { APP_BROKER: `redis://127.0.0.1:${port}/0` } });
    debuggees.push(debuggee);
    const targets = await waitForTargets(relay.access('tcps'), (t) => membersOf(t, 'jobs-1').length === 2 && t.some((x) => x.name === 'jobs-1'), 30_000);
    const members = membersOf(targets, 'jobs-1');
    for (const member of members) expect(member.labels).toMatchObject({ server: 'celery', parent: String(debuggee.process.pid), killTimer: '60s (Celery task_time_limit)' });
    const member = members[0]!;
    expect(await debugMember(member.name, app, markerLine('TASK', app))).toBe(String(member.pid));
    // after 25 tasks Celery replaces a pool process: the old member leaves, a new one registers
    const first = new Set(members.map((m) => m.name));
    await waitForTargets(relay.access('tcps'), (t) => membersOf(t, 'jobs-1').some((m) => !first.has(m.name)) && membersOf(t, 'jobs-1').length <= 2, 30_000);
  }, 90_000);
});

describe('spawned workers', () => {
  it('a multiprocessing spawn pool: each worker a member, debuggable by name', async () => {
    const app = join(servers, 'poolApp.py');
    const debuggee = startDebuggee({ ...relay.access('tcps'), name: 'spool-1', script: app, env: { APP_START_METHOD: 'spawn' } });
    debuggees.push(debuggee);
    const targets = await waitForTargets(relay.access('tcps'), (t) => membersOf(t, 'spool-1').length === 2, 30_000);
    await debuggee.waitForOutput(/tasks \d+/);
    const member = membersOf(targets, 'spool-1')[0]!;
    expect(member.labels).toMatchObject({ server: 'multiprocessing', parent: String(debuggee.process.pid) });
    expect(await debugMember(member.name, app, markerLine('TASK', app))).toBe(String(member.pid));
    debuggee.trigger('stop-pool');
    await waitForTargets(relay.access('tcps'), (t) => membersOf(t, 'spool-1').length === 0, 15_000);
  }, 60_000);

  it('uvicorn --workers 2: each worker a member, serving while nobody debugs, debugged by name', async () => {
    const app = join(servers, 'asgiApp.py');
    const port = await freePort();
    const debuggee = startDebuggee({
      ...relay.access('tcps'),
      name: 'api-1',
      script: '-m',
      scriptArgs: ['uvicorn', '--workers', '2', '--host', '127.0.0.1', '--port', String(port), '--app-dir', servers, 'asgiApp:app'],
    });
    debuggees.push(debuggee);
    const targets = await waitForTargets(relay.access('tcps'), (t) => membersOf(t, 'api-1').length === 2, 30_000);
    const url = `http://127.0.0.1:${port}/`;
    // a worker listens only after it printed "Application startup complete": ask until one answers
    const first = await answered(url, 20_000);
    // an idle asyncio worker that accepted last tends to accept next: debug the one that answers
    const [, answering] = first.match(/^worker (\d+)/)!;
    for (const member of membersOf(targets, 'api-1')) expect(member.labels).toMatchObject({ server: 'uvicorn', parent: String(debuggee.process.pid) });
    const member = membersOf(targets, 'api-1').find((m) => String(m.pid) === answering)!;
    expect(member).toBeDefined();
    // three requests at a time, so that every worker gets some
    const poke = () => getThreeAtOnce(url);
    expect(await debugMember(member.name, app, markerLine('HANDLE', app), poke)).toBe(String(member.pid));
  }, 60_000);
});
