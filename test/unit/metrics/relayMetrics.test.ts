import { register } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RelayMetrics } from '../../../src/metrics/relayMetrics.js';

describe('RelayMetrics', () => {
  it('gives each relay its own registry, never the global default one', async () => {
    const a = new RelayMetrics();
    const b = new RelayMetrics();
    a.auth.failures.inc({ reason: 'AUTH_FAILED' });
    a.auth.failures.inc({ reason: 'AUTH_FAILED' });
    expect(await a.valueOf('dbgrelay_auth_failures_total', { reason: 'AUTH_FAILED' })).toBe(2);
    expect(await b.valueOf('dbgrelay_auth_failures_total', { reason: 'AUTH_FAILED' })).toBe(0);
    expect(register.getSingleMetric('dbgrelay_auth_failures_total')).toBeUndefined();
  });

  it('exposes the auth series from the start, in the Prometheus text format', async () => {
    let locked = 0;
    const metrics = new RelayMetrics(() => locked);
    locked = 3;
    metrics.auth.lockouts.inc();
    const text = await metrics.registry.metrics();
    expect(text).toContain('dbgrelay_auth_failures_total{reason="AUTH_REQUIRED"} 0');
    expect(text).toContain('dbgrelay_auth_failures_total{reason="AUTH_LOCKED"} 0');
    expect(text).toContain('dbgrelay_auth_lockouts_total 1');
    expect(text).toContain('dbgrelay_auth_locked_sources 3');
    expect(text).toMatch(/# TYPE dbgrelay_auth_locked_sources gauge/);
  });
});
