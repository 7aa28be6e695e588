import { describe, expect, it } from 'vitest';
import { RelayMetrics } from '../../../src/metrics/relayMetrics.js';

describe('session, agent and SSH metrics', () => {
  it('declares every series from the start with bounded labels', async () => {
    const text = await new RelayMetrics().registry.metrics();
    for (const outcome of ['ended', 'protocolError', 'refused', 'clientLeft', 'failed']) {
      expect(text).toContain(`dbgrelay_sessions_total{outcome="${outcome}"} 0`);
    }
    expect(text).toContain('dbgrelay_relayed_bytes_total{direction="client_to_target"} 0');
    expect(text).toContain('dbgrelay_relayed_bytes_total{direction="target_to_client"} 0');
    expect(text).toContain('dbgrelay_agents_connected{transport="wss"} 0');
    expect(text).toContain('dbgrelay_agents_connected{transport="tcps"} 0');
    expect(text).toContain('dbgrelay_targets_registered 0');
    expect(text).toContain('dbgrelay_sessions_active 0');
    expect(text).toContain('dbgrelay_ssh_connections 0');
    expect(text).toContain('dbgrelay_agent_heartbeat_misses_total 0');
    expect(text).toMatch(/# TYPE dbgrelay_session_attach_seconds histogram/);
    expect(text).toMatch(/# TYPE dbgrelay_session_duration_seconds histogram/);
  });

  it('counts outcomes, refusal codes and the gauges from their sources', async () => {
    const metrics = new RelayMetrics();
    metrics.sessions.countOutcome('refused', 'UNKNOWN_TARGET');
    metrics.sessions.countOutcome('ended');
    metrics.sessions.observeActive(() => 2);
    metrics.agents.observe({ connections: () => ({ wss: 3, tcps: 1 }), targets: () => 4 });
    const closeSsh = metrics.ssh.opened();
    metrics.ssh.opened();
    closeSsh();
    closeSsh(); // counted once
    expect(await metrics.valueOf('dbgrelay_sessions_total', { outcome: 'refused' })).toBe(1);
    expect(await metrics.valueOf('dbgrelay_session_refusals_total', { code: 'UNKNOWN_TARGET' })).toBe(1);
    expect(await metrics.valueOf('dbgrelay_sessions_active')).toBe(2);
    expect(await metrics.valueOf('dbgrelay_agents_connected', { transport: 'wss' })).toBe(3);
    expect(await metrics.valueOf('dbgrelay_targets_registered')).toBe(4);
    expect(await metrics.valueOf('dbgrelay_ssh_connections')).toBe(1);
  });
});
