import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, describe, expect, it } from 'vitest';
import { rewriteAttachConfiguration } from '../../../src/client/subprocessRewrite.js';
import { RelayMetrics } from '../../../src/metrics/relayMetrics.js';
import { attachRefusalReason, checkAttachArguments, droppedAttachKeys, forwardedAttachKeys } from '../../../src/session/attachArguments.js';
import { settle, trackedSessions } from '../../support/harness/guardedHarness.js';

const { open, closeAll } = trackedSessions();
afterEach(async () => {
  await closeAll();
});

/** What VS Code's Python debugger sends for a remote attach (resolved launch.json). */
const vscodeAttach = {
  name: 'Attach through dbgrelay',
  type: 'debugpy',
  request: 'attach',
  connect: { host: 'localhost', port: 5678 },
  pathMappings: [{ localRoot: '/home/me/app', remoteRoot: '/srv/app' }],
  justMyCode: true,
  showReturnValue: true,
  debugOptions: ['RedirectOutput', 'ShowReturnValue'],
  clientOS: 'unix',
  workspaceFolder: '/home/me/app',
  __configurationTarget: 6,
  __sessionId: '7f6c1c1e-0000-4000-8000-000000000000',
};

describe('checkAttachArguments', () => {
  it('forwards an attach with only allowed keys untouched', () => {
    const { connect: _connect, workspaceFolder: _folder, ...args } = vscodeAttach;
    expect(checkAttachArguments(args)).toEqual({ forwarded: undefined });
    expect(checkAttachArguments(undefined)).toEqual({ forwarded: undefined });
    expect(checkAttachArguments({})).toEqual({ forwarded: undefined });
  });

  it('removes the keys that matter only on the client machine and keeps the rest', () => {
    const { connect: _connect, workspaceFolder: _folder, ...rest } = vscodeAttach;
    expect(checkAttachArguments(vscodeAttach)).toEqual({ forwarded: rest });
    expect(checkAttachArguments({ host: 'localhost', port: 5678, justMyCode: false })).toEqual({ forwarded: { justMyCode: false } });
    expect(checkAttachArguments({ localRoot: '/a', remoteRoot: '/b', logToFile: true, name: 'x' })).toEqual({ forwarded: { name: 'x' } });
  });

  it.each([
    ['processId', 4242],
    ['debugpyArgs', ['--log-to', '/tmp']],
    ['linuxAttachPreferLldb', true],
    ['listen', { host: '0.0.0.0', port: 5678 }],
    ['python', ['/usr/bin/python3']],
    ['pythonPath', '/usr/bin/python3'],
    ['pythonArgs', ['-X', 'dev']],
    ['program', '/srv/app/evil.py'],
    ['module', 'http.server'],
    ['code', 'import os'],
    ['args', ['x']],
    ['cwd', '/'],
    ['env', { PYTHONPATH: '/tmp' }],
    ['envFile', '/tmp/.env'],
    ['console', 'integratedTerminal'],
    ['sudo', true],
    ['noDebug', true],
    ['autoReload', { enable: true }],
    ['guiEventLoop', 'matplotlib'],
    ['onTerminate', 'KeyboardInterrupt'],
    ['terminateChildProcesses', false],
    ['isOutputRedirected', true],
    ['restart', true],
    ['preLaunchTask', 'build'],
    ['madeUpKey', 1],
  ])('refuses an attach carrying %s (allow-list)', (key, value) => {
    expect(checkAttachArguments({ ...vscodeAttach, [key]: value })).toEqual({ refused: [key] });
  });

  it('names every offending key', () => {
    expect(checkAttachArguments({ processId: 1, justMyCode: true, debugpyArgs: [] })).toEqual({ refused: ['processId', 'debugpyArgs'] });
  });

  it('refuses arguments that are not an object', () => {
    for (const args of [null, 'x', 3, [1]]) expect(checkAttachArguments(args).refused).toBeDefined();
  });

  it('keeps the refusal message bounded and printable', () => {
    const keys = ['processId', `evil\u001b[2J${'x'.repeat(200)}`, ...Array.from({ length: 20 }, (_, i) => `k${i}`)];
    const reason = attachRefusalReason(keys);
    expect(reason).toContain('"processId"');
    expect(reason).not.toContain('\u001b');
    expect(reason).toContain('and 14 more');
    expect(reason.length).toBeLessThan(400);
    expect(attachRefusalReason(['processId'])).toBe('attach argument "processId" refused: the relay forwards only arguments that configure debugging of the running process');
  });

  it('accepts every key of a subprocess attach as `dbgrelay attach` hands it to the debugger', () => {
    // debugpy's notify_of_subprocess copies the parent's attach arguments; the client
    // keeps its own allow-list and adds connect. Every key of a full copy must pass.
    const parent = {
      ...vscodeAttach,
      subProcess: true,
      rules: [{ module: 'x', include: false }],
      redirectOutput: true,
      stopOnEntry: false,
      django: false,
      flask: false,
      jinja: false,
      pyramid: false,
      gevent: false,
      maxExceptionStackFrames: 10,
      breakOnSystemExitZero: false,
      name: 'Subprocess 4242',
      subProcessId: 4242,
    };
    const configuration = rewriteAttachConfiguration(parent, { host: '127.0.0.1', port: 40000 });
    expect(Object.keys(configuration)).toContain('subProcessId');
    const verdict = checkAttachArguments(configuration);
    expect(verdict.refused).toBeUndefined();
    const { connect: _connect, ...rest } = configuration;
    expect(verdict).toEqual({ forwarded: rest });
  });

  it('keeps the forwarded and the dropped keys apart', () => {
    for (const key of droppedAttachKeys) expect(forwardedAttachKeys.has(key)).toBe(false);
  });
});

describe('the attach-arguments guard in a session', () => {
  it('refuses an attach with processId or debugpyArgs, audits and counts it, and the session goes on', async () => {
    const metrics = new RelayMetrics();
    const h = await open({ metrics: metrics.guardrails });
    await h.request('initialize', { adapterID: 'debugpy' });

    const byPid = await h.request('attach', { ...vscodeAttach, processId: 4242 });
    expect(byPid.success).toBe(false);
    expect(byPid.message).toBe('dbgrelay: attach argument "processId" refused: the relay forwards only arguments that configure debugging of the running process');
    const withArgs = await h.request('attach', { ...vscodeAttach, debugpyArgs: ['--log-to', '/tmp'], python: ['/usr/bin/python3'] });
    expect(withArgs.message).toContain('"debugpyArgs", "python"');
    expect(h.adapter.requests('attach')).toHaveLength(0);

    const refused = h.audit.named('dap.refused');
    expect(refused).toEqual([
      expect.objectContaining({ command: 'attach', guard: 'attachArguments', keys: ['processId'], direction: 'toAdapter' }),
      expect.objectContaining({ command: 'attach', guard: 'attachArguments', keys: ['debugpyArgs', 'python'] }),
    ]);
    expect(h.audit.named('dap.request').filter((r) => r['command'] === 'attach')).toHaveLength(0);
    expect(await metrics.valueOf('dbgrelay_dap_refusals_total', { policy: 'attachArguments', command: 'attach' })).toBe(2);

    const attach = await h.request('attach', vscodeAttach);
    expect(attach.success).toBe(true);
    const forwarded = h.adapter.requests('attach');
    expect(forwarded).toHaveLength(1);
    const { connect: _connect, workspaceFolder: _folder, ...rest } = vscodeAttach;
    expect(forwarded[0]!.arguments).toEqual(rest);
    expect(forwarded[0]!.seq).toBe(attach.request_seq);

    // The refused attaches did not count as the session's attach: a client loss now detaches.
    h.client.transport.close();
    await h.closed;
    expect(h.adapter.requests('disconnect')).toHaveLength(1);
  });

  it('always refuses launch, and audits and counts it', async () => {
    const metrics = new RelayMetrics();
    const h = await open({ metrics: metrics.guardrails });
    const response = await h.request('launch', { program: '/srv/app/main.py' });
    expect(response.success).toBe(false);
    expect(response.message).toBe('dbgrelay: launch refused: the relay only attaches to a process that is already running');
    const empty = await h.request('launch', {});
    expect(empty.success).toBe(false);
    expect(h.adapter.requests('launch')).toHaveLength(0);
    expect(h.audit.named('dap.refused')).toEqual([
      expect.objectContaining({ command: 'launch', guard: 'attachArguments' }),
      expect.objectContaining({ command: 'launch', guard: 'attachArguments' }),
    ]);
    expect(await metrics.valueOf('dbgrelay_dap_refusals_total', { policy: 'attachArguments', command: 'launch' })).toBe(2);
  });

  it('refuses before the one-debugger-per-target rule sees the attach', async () => {
    const h = await open();
    const refused = await h.request('attach', { subProcessId: 7, processId: 7 });
    expect(refused.message).toContain('"processId"');
    await settle();
    expect(h.audit.named('dap.refused')).toHaveLength(1);
    const child = await h.request('attach', { subProcessId: 7 });
    expect(child.success).toBe(true);
    expect((h.adapter.requests('attach')[0]!.arguments as DebugProtocol.AttachRequestArguments & { subProcessId: number }).subProcessId).toBe(7);
  });
});
