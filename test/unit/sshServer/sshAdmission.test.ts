import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SshServerMetrics } from '../../../src/metrics/sshServerMetrics.js';
import { startupDrop } from '../../../src/sshServer/maxStartups.js';
import { SshAdmission } from '../../../src/sshServer/sshAdmission.js';

const bounds = { start: 10, rate: 30, full: 60 };

describe('startupDrop (sshServer.maxStartups)', () => {
  it('accepts below start without asking the random source, drops all at full, and in between with probability rate% rising to 100%', () => {
    const never = (): number => {
      throw new Error('asked for a random number below start');
    };
    expect(startupDrop(0, bounds, never)).toBeUndefined();
    expect(startupDrop(9, bounds, never)).toBeUndefined();
    expect(startupDrop(60, bounds, never)).toBe('full');
    expect(startupDrop(500, bounds, never)).toBe('full');
    // At start: 30 %.
    expect(startupDrop(10, bounds, () => 0.29)).toBe('earlyDrop');
    expect(startupDrop(10, bounds, () => 0.31)).toBeUndefined();
    // Halfway (35): 30 % + 70 % / 2 = 65 %.
    expect(startupDrop(35, bounds, () => 0.64)).toBe('earlyDrop');
    expect(startupDrop(35, bounds, () => 0.66)).toBeUndefined();
    // Just below full (59): 30 % + 70 % * 49/50 = 98.6 %.
    expect(startupDrop(59, bounds, () => 0.985)).toBe('earlyDrop');
    expect(startupDrop(59, bounds, () => 0.987)).toBeUndefined();
  });
});

describe('SshAdmission', () => {
  const metricValue = async (registry: Registry, name: string, labels = ''): Promise<number> => {
    const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${name}${labels} `));
    return Number(line?.split(' ')[1]);
  };

  it('counts only authenticated connections against maxConnections; startups have their own caps, per source too; refusals by reason', async () => {
    const registry = new Registry();
    const metrics = new SshServerMetrics(registry);
    let draw = 0.99; // above every early-drop probability until the test says otherwise
    const admission = new SshAdmission({ maxConnections: 2, maxStartups: { start: 4, rate: 50, full: 6 }, maxStartupsPerSource: 3 }, () => draw, metrics);
    // A flood from one source holds its per-source cap and no more.
    const flood = Array.from({ length: 10 }, () => admission.admit('10.0.0.66'));
    expect(flood.filter(Boolean)).toHaveLength(3);
    expect(await metricValue(registry, 'dbgrelay_ssh_server_refusals_total', '{reason="maxStartupsPerSource"}')).toBe(7);
    expect(await metricValue(registry, 'dbgrelay_ssh_server_unauthenticated_connections')).toBe(3);
    // Hosts that authenticate fill maxConnections (2) whatever the flood holds.
    const hosts = ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((ip) => admission.admit(ip)!);
    expect(admission.unauthenticated).toBe(6);
    expect(admission.admit('10.0.0.4')).toBeUndefined(); // full (6)
    expect(hosts.map((host) => host.authenticated())).toEqual([true, true, false]);
    expect(admission.authenticated).toBe(2);
    expect(admission.unauthenticated).toBe(3);
    hosts[2]!.closed();
    hosts[0]!.closed();
    hosts[0]!.closed(); // once
    expect(admission.authenticated).toBe(1);
    expect(admission.unauthenticated).toBe(3);
    // Between start (4) and full (6) the injected draw decides: 50 % with 4 waiting, 75 % with 5.
    expect(admission.admit('10.0.0.5')).toBeDefined(); // 3 waiting: below start
    draw = 0.7;
    expect(admission.admit('10.0.0.6')).toBeDefined(); // 4 waiting: 0.7 >= 50 %
    expect(admission.admit('10.0.0.7')).toBeUndefined(); // 5 waiting: 0.7 < 75 %
    draw = 0.8;
    expect(admission.admit('10.0.0.8')).toBeDefined(); // 5 waiting: 0.8 >= 75 %
    expect(admission.admit('10.0.0.9')).toBeUndefined(); // 6 waiting: full
    expect(await metricValue(registry, 'dbgrelay_ssh_server_refusals_total', '{reason="maxStartupsEarlyDrop"}')).toBe(1);
    expect(await metricValue(registry, 'dbgrelay_ssh_server_refusals_total', '{reason="maxStartupsFull"}')).toBe(2);
    expect(await metricValue(registry, 'dbgrelay_ssh_server_refusals_total', '{reason="maxConnections"}')).toBe(1);
    expect(await metricValue(registry, 'dbgrelay_ssh_server_unauthenticated_connections')).toBe(6);
  });
});
