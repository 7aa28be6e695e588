import { afterEach, describe, expect, it } from 'vitest';
import { RelayMetrics } from '../../../src/metrics/relayMetrics.js';
import { openGuardedSession, principal, settle, testGuards, type Harness } from '../../support/harness/guardedHarness.js';

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    h.pipe.close();
    await h.closed;
  }
});

async function open(...args: Parameters<typeof openGuardedSession>): Promise<Harness> {
  const h = await openGuardedSession(...args);
  harnesses.push(h);
  return h;
}

const refusals = 'dbgrelay_dap_refusals_total';

describe('guardrail metrics', () => {
  it('counts policy refusals by policy and command, and nothing for what is allowed', async () => {
    const metrics = new RelayMetrics();
    const h = await open({ policies: { default: 'logpoints-only', targets: {}, principals: {} }, metrics: metrics.guardrails });
    await h.request('evaluate', { expression: 'x', frameId: 1 });
    await h.request('evaluate', { expression: 'y', frameId: 1 });
    await h.request('pause', { threadId: 1 });
    await h.request('threads');
    await h.request('setBreakpoints', { source: { path: '/a.py' }, breakpoints: [{ line: 1, logMessage: 'x={x}' }] });
    expect(await metrics.valueOf(refusals, { policy: 'logpoints-only', command: 'evaluate' })).toBe(2);
    expect(await metrics.valueOf(refusals, { policy: 'logpoints-only', command: 'pause' })).toBe(1);
    const text = await metrics.registry.metrics();
    expect(text).not.toMatch(/command="(threads|setBreakpoints)"/);
  });

  it('counts runInTerminal and non-attach startDebugging as reverseRequests refusals', async () => {
    const metrics = new RelayMetrics();
    const h = await open({ metrics: metrics.guardrails });
    h.adapter.send({ type: 'request', seq: 50, command: 'runInTerminal', arguments: { kind: 'integrated', cwd: '/', args: ['sh'] } });
    h.adapter.send({ type: 'request', seq: 51, command: 'startDebugging', arguments: { request: 'launch', configuration: {} } });
    h.adapter.send({ type: 'event', seq: 52, event: 'debugpyAttach', body: { request: 'launch' } });
    await settle();
    expect(await metrics.valueOf(refusals, { policy: 'reverseRequests', command: 'runInTerminal' })).toBe(1);
    expect(await metrics.valueOf(refusals, { policy: 'reverseRequests', command: 'startDebugging' })).toBe(1);
    expect(await metrics.valueOf(refusals, { policy: 'reverseRequests', command: 'debugpyAttach' })).toBe(1);
  });

  it("counts a further session's attach without an announced subprocess as an exclusive refusal", async () => {
    const metrics = new RelayMetrics();
    const guards = testGuards({ metrics: metrics.guardrails });
    await open({ guards, principal: principal('jwt:alice') });
    const second = await open({ guards, principal: principal('jwt:alice') });
    const response = await second.request('attach', { subProcessId: 99 });
    expect(response.success).toBe(false);
    expect(await metrics.valueOf(refusals, { policy: 'exclusive', command: 'attach' })).toBe(1);
  });

  it('counts watchdog resumes', async () => {
    const metrics = new RelayMetrics();
    const h = await open({ pauseWatchdog: { maxPauseMs: 30, targets: {} }, metrics: metrics.guardrails });
    expect(await metrics.valueOf('dbgrelay_watchdog_resumes_total')).toBe(0);
    h.adapter.send({ type: 'event', seq: 70, event: 'stopped', body: { reason: 'breakpoint', threadId: 1 } });
    await expect.poll(() => metrics.valueOf('dbgrelay_watchdog_resumes_total'), { timeout: 2_000 }).toBe(1);
    expect(await metrics.registry.metrics()).toContain('dbgrelay_watchdog_resumes_total 1');
  });

  it('keeps label values bounded: unknown guards and commands become "other"', async () => {
    const metrics = new RelayMetrics();
    metrics.guardrails.countRefusal('no-eval', 'evaluate');
    metrics.guardrails.countRefusal('no-eval', 'x'.repeat(500));
    metrics.guardrails.countRefusal('made-up', '__proto__');
    expect(await metrics.valueOf(refusals, { policy: 'no-eval', command: 'other' })).toBe(1);
    expect(await metrics.valueOf(refusals, { policy: 'other', command: 'other' })).toBe(1);
    expect(await metrics.registry.metrics()).not.toContain('xxxx');
  });
});
