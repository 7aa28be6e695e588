import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PauseMetrics } from '../../../src/metrics/pauseMetrics.js';

async function value(registry: Registry, name: string): Promise<number | undefined> {
  return (await registry.getSingleMetric(name)!.get()).values[0]?.value;
}

describe('PauseMetrics', () => {
  it('counts the stopped debuggees and the longest pause at each scrape, 0 when none is stopped', async () => {
    const registry = new Registry();
    const metrics = new PauseMetrics(registry);
    expect(await value(registry, 'dbgrelay_sessions_paused')).toBe(0);
    expect(await value(registry, 'dbgrelay_session_longest_pause_seconds')).toBe(0);
    let stopped = [Date.now() - 90_000, Date.now() - 5_000];
    metrics.observe(() => stopped);
    expect(await value(registry, 'dbgrelay_sessions_paused')).toBe(2);
    expect(await value(registry, 'dbgrelay_session_longest_pause_seconds')).toBeCloseTo(90, 0);
    stopped = [];
    expect(await value(registry, 'dbgrelay_sessions_paused')).toBe(0);
    expect(await value(registry, 'dbgrelay_session_longest_pause_seconds')).toBe(0);
  });
});
