import { afterEach, describe, expect, it } from 'vitest';
import { RelayMetrics } from '../../../src/metrics/relayMetrics.js';
import { internalToDebugpy, unansweredByDebugpy } from '../../../src/session/requestValidation.js';
import { trackedSessions } from '../../support/harness/guardedHarness.js';

const { open, closeAll } = trackedSessions();
afterEach(async () => {
  await closeAll();
});

describe('request validation in a guarded session', () => {
  it('refuses a request whose arguments break the DAP schema, naming the field, and the session goes on', async () => {
    const metrics = new RelayMetrics();
    const h = await open({ metrics: metrics.guardrails });
    const refused = await h.request('setBreakpoints', { source: { path: '/srv/app.py' }, breakpoints: { line: 10 } });
    expect(refused.success).toBe(false);
    expect(refused.message).toContain('/arguments/breakpoints');
    expect(h.adapter.requests().some((r) => r.seq === refused.request_seq)).toBe(false);
    const record = h.audit.named('dap.refused')[0];
    expect(record).toMatchObject({ guard: 'schema', command: 'setBreakpoints', field: '/arguments/breakpoints' });
    expect(await metrics.valueOf('dbgrelay_dap_refusals_total', { policy: 'schema', command: 'setBreakpoints' })).toBe(1);

    const answered = await h.request('setBreakpoints', { source: { path: '/srv/app.py' }, breakpoints: [{ line: 10 }] });
    expect(answered.success).toBe(true);
    expect(h.adapter.requests().some((r) => r.seq === answered.request_seq)).toBe(true);
  });

  it('refuses a shape the schema allows but debugpy cannot survive (exception path segment without names)', async () => {
    const h = await open();
    const refused = await h.request('setExceptionBreakpoints', { filters: [], exceptionOptions: [{ path: [{}], breakMode: 'always' }] });
    expect(refused.success).toBe(false);
    expect(refused.message).toContain('/arguments/exceptionOptions/0/path/0');
    expect(h.adapter.requests()).toHaveLength(0);
  });

  it('validates before the policy gate: a malformed shape cannot slip past logpoints-only', async () => {
    const h = await open({ policies: { default: 'logpoints-only', targets: {}, principals: {} } });
    const refused = await h.request('setBreakpoints', { source: { path: '/srv/app.py' }, breakpoints: { 0: { line: 3, condition: 'x' } } });
    expect(refused.success).toBe(false);
    expect(refused.message).toContain('DAP schema');
    expect(h.adapter.requests()).toHaveLength(0);
  });

  it.each([...unansweredByDebugpy])('answers %s itself: debugpy never would', async (command) => {
    const h = await open();
    const refused = await h.request(
      command,
      command === 'cancel'
        ? { requestId: 1 }
        : command === 'terminateThreads'
          ? { threadIds: [1] }
          : command === 'breakpointLocations'
            ? { source: { path: '/srv/app.py' }, line: 1 }
            : {},
    );
    expect(refused.success).toBe(false);
    expect(refused.message).toContain('never answer');
    expect(h.adapter.requests()).toHaveLength(0);
  });

  it.each([...internalToDebugpy])('refuses %s: only debugpy itself may send it to pydevd', async (command) => {
    const h = await open();
    const refused = await h.request(command, { debugServerAccessToken: 'wrong' });
    expect(refused.success).toBe(false);
    expect(refused.message).toContain("debugpy's own request");
    expect(h.adapter.requests()).toHaveLength(0);
  });

  it("bounds and cleans a field pointer made of a client's key names", async () => {
    const h = await open();
    const key = `k\n${'x'.repeat(5000)}`;
    const refused = await h.request('runInTerminal', { cwd: '/', args: ['x'], env: { [key]: 1 } });
    expect(refused.success).toBe(false);
    expect(refused.message!.length).toBeLessThan(700);
    const record = h.audit.named('dap.refused')[0]!;
    expect(String(record['field'])).toContain('/arguments/env/k?xxx');
    expect(String(record['field']).length).toBeLessThanOrEqual(257);
    expect(String(record['reason'])).not.toContain('\n');
  });

  it('forwards the requests of an ordinary session untouched', async () => {
    const h = await open();
    for (const [command, args] of [
      ['threads', undefined],
      ['stackTrace', { threadId: 1, startFrame: 0, levels: 20 }],
      ['scopes', { frameId: 3 }],
      ['variables', { variablesReference: 7 }],
      ['evaluate', { expression: 'n', frameId: 3, context: 'repl' }],
      ['continue', { threadId: 1 }],
    ] as const) {
      const response = await h.request(command, args);
      expect(response.success, command).toBe(true);
    }
    expect(h.adapter.requests()).toHaveLength(6);
    expect(h.audit.named('dap.refused')).toHaveLength(0);
  });
});
