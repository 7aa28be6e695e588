import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RelayMetrics } from '../../src/metrics/relayMetrics.js';

/**
 * deploy/prometheus: the scrape configuration and the alerting rules pass promtool's
 * checks, the alerts' unit tests (alerts.test.yml) pass, and the rules use only
 * metrics the relay exports.
 */
const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy', 'prometheus');
const promtool = '/usr/bin/promtool';

function runPromtool(...args: string[]): { status: number | null; output: string } {
  expect(existsSync(promtool), `${promtool} is missing: run node test/setupSystem.mjs (installs the prometheus package)`).toBe(true);
  const result = spawnSync(promtool, args, { cwd: dir, encoding: 'utf8', timeout: 15_000 });
  expect(result.error).toBeUndefined();
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('deploy/prometheus', () => {
  it('prometheus.yml passes promtool check config (with its rule file)', () => {
    const { status, output } = runPromtool('check', 'config', 'prometheus.yml');
    expect(output).toContain('SUCCESS');
    expect(status, output).toBe(0);
  });

  it('alerts.yml passes promtool check rules', () => {
    const { status, output } = runPromtool('check', 'rules', 'alerts.yml');
    expect(output).toMatch(/SUCCESS: \d+ rules found/);
    expect(status, output).toBe(0);
  });

  it('the alerts fire as their unit tests expect (promtool test rules)', () => {
    const { status, output } = runPromtool('test', 'rules', 'alerts.test.yml');
    expect(status, output).toBe(0);
  });

  it('alerts before a certificate expires, and tests each such alert', () => {
    const rules = (parse(readFileSync(join(dir, 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }).groups.flatMap(
      (group) => group.rules,
    );
    const expiry = rules.filter((rule) => rule.expr.includes('dbgrelay_certificate_expiry_timestamp_seconds'));
    expect(expiry.map((rule) => rule.alert).sort()).toEqual(['DbgrelayCertificateExpiringCritical', 'DbgrelayCertificateExpiringSoon']);
    const tested = (
      parse(readFileSync(join(dir, 'alerts.test.yml'), 'utf8')) as { tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }> }
    ).tests.flatMap((test) => test.alert_rule_test);
    // Each is shown firing by a case of alerts.test.yml (promtool runs them above).
    for (const { alert } of expiry)
      expect(
        tested.some((test) => test.alertname === alert && test.exp_alerts.length > 0),
        alert,
      ).toBe(true);
  });

  it('the alerts use only metrics the relay exports', async () => {
    const exported = new Set((await new RelayMetrics().registry.getMetricsAsJSON()).map((metric) => metric.name));
    const used = [...readFileSync(join(dir, 'alerts.yml'), 'utf8').matchAll(/\bdbgrelay_[a-z_]+/g)].map((match) => match[0]);
    expect(used.length).toBeGreaterThan(3);
    for (const name of used) expect(exported, name).toContain(name.replace(/_(bucket|count|sum)$/, ''));
  });
});
