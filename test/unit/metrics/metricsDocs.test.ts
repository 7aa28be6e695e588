import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JsonDepthMetrics } from '../../../src/metrics/jsonDepthMetrics.js';
import { PreAuthMetrics } from '../../../src/metrics/preAuthMetrics.js';
import { SshServerMetrics } from '../../../src/metrics/sshServerMetrics.js';
import { RelayMetrics } from '../../../src/metrics/relayMetrics.js';
import { ConsoleMetrics } from '../../../src/metrics/consoleMetrics.js';

/** docs/operations.md lists every metric the relay exports, with its type and labels. */
const docs = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs', 'operations.md'), 'utf8');

describe('docs/operations.md "Metrics and health"', () => {
  it('has a row for every dbgrelay_* metric with its type and labels', async () => {
    const registry = new RelayMetrics().registry;
    new JsonDepthMetrics(registry); // registered by the relay next to RelayMetrics
    new PreAuthMetrics(registry, () => 0);
    new SshServerMetrics(registry);
    new ConsoleMetrics(registry, () => 0);
    const metrics = await registry.getMetricsAsJSON();
    const ours = metrics.filter((metric) => metric.name.startsWith('dbgrelay_'));
    expect(ours.length).toBeGreaterThan(10);
    for (const metric of ours) {
      const row = docs.split('\n').find((line) => line.startsWith(`| \`${metric.name}\` |`));
      expect(row, metric.name).toBeDefined();
      const cells = row!.split('|').map((cell) => cell.trim());
      expect(cells[2], metric.name).toBe(metric.type);
      // prom-client keeps the declared label names on the metric object (not in its typings).
      const labelNames = (registry.getSingleMetric(metric.name) as unknown as { labelNames: string[] }).labelNames;
      expect(Array.isArray(labelNames)).toBe(true);
      for (const label of labelNames) expect(cells[3], `${metric.name} label ${label}`).toContain(`\`${label}\``);
    }
  });
});
