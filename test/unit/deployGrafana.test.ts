import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificates, startTestRelay, type TestRelay } from '../support/relay/relayFixture.js';

/**
 * deploy/grafana/dbgrelay-dashboard.json: a Grafana dashboard that imports anywhere
 * (its Prometheus data source is a variable, no UID of one installation) and whose
 * every query names only metrics a real relay exposes on /metrics.
 */
const file = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy', 'grafana', 'dbgrelay-dashboard.json');

interface Target {
  readonly expr: string;
  readonly refId: string;
  readonly datasource: unknown;
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { h: number; w: number; x: number; y: number };
  readonly datasource?: unknown;
  readonly targets?: readonly Target[];
}
interface Variable {
  readonly name: string;
  readonly type: string;
  readonly query: unknown;
  readonly datasource?: unknown;
}
interface Dashboard {
  readonly title: string;
  readonly uid: string;
  readonly schemaVersion: number;
  readonly panels: readonly Panel[];
  readonly templating: { list: readonly Variable[] };
}

const dashboard = JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
const queryPanels = dashboard.panels.filter((panel) => panel.type !== 'row');
const datasourceVariable = { type: 'prometheus', uid: '${datasource}' };

/** PromQL words that are not metric names: operators and modifiers (https://prometheus.io/docs/prometheus/latest/querying/operators/). */
const promqlWords = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'inf', 'nan']);

/**
 * The metric names a PromQL expression (or a Grafana `label_values(...)` query) reads:
 * label matchers, strings, ranges, grouping label lists and Grafana variables are
 * dropped first; of the identifiers left, a function is one followed by "(".
 */
function metricNamesOf(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ')
    .replace(/^\s*label_values\s*\(([^,)]*),[^)]*\)\s*$/, '$1');
  return [...stripped.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()/g)].map((match) => match[1]!).filter((word) => !promqlWords.has(word.toLowerCase()));
}

/** Every series name a scrape of the relay shows: histograms as _bucket, _sum and _count, summaries as _sum and _count too. */
async function exposedNames(relay: TestRelay): Promise<Set<string>> {
  const names = new Set<string>();
  for (const metric of await relay.relay.metrics.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    if (String(metric.type) === 'summary') for (const suffix of ['_sum', '_count']) names.add(metric.name + suffix);
  }
  return names;
}

/** The names `exprs` read that `exposed` lacks. */
function missingMetrics(exprs: readonly string[], exposed: ReadonlySet<string>): string[] {
  return exprs.flatMap((expr) => metricNamesOf(expr).filter((name) => !exposed.has(name)));
}

/** Every value of a `datasource` key anywhere in `value`. */
function datasources(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(datasources);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => (key === 'datasource' ? [inner, ...datasources(inner)] : datasources(inner)));
}

let relay: TestRelay;
beforeAll(async () => {
  // A relay as deployed: its metrics listener registers the process and Node.js metrics too.
  relay = await startTestRelay(makeCertificates(), { metrics: { enabled: true, host: '127.0.0.1', port: 0 } });
});
afterAll(async () => {
  await relay?.close();
});

describe('deploy/grafana/dbgrelay-dashboard.json', () => {
  it('is a dashboard with titled panels on a 24-column grid, each id once', () => {
    expect(dashboard.title).toBe('dbgrelay');
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(queryPanels.length).toBeGreaterThanOrEqual(15);
    expect(new Set(dashboard.panels.map((panel) => panel.id)).size).toBe(dashboard.panels.length);
    for (const panel of dashboard.panels) {
      expect(panel.title, `panel ${panel.id}`).not.toBe('');
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      expect(panel.gridPos.h, panel.title).toBeGreaterThan(0);
    }
    for (const panel of queryPanels) {
      expect(['stat', 'timeseries', 'table', 'gauge', 'bargauge'], panel.title).toContain(panel.type);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      expect(new Set(panel.targets!.map((target) => target.refId)).size, panel.title).toBe(panel.targets!.length);
    }
  });

  it('takes its Prometheus from a data source variable, never from the UID of one installation', () => {
    const variable = dashboard.templating.list.find((entry) => entry.type === 'datasource');
    expect(variable).toMatchObject({ name: 'datasource', query: 'prometheus' });
    const used = datasources(dashboard);
    expect(used.length).toBeGreaterThan(queryPanels.length);
    for (const datasource of used) expect(datasource).toEqual(datasourceVariable);
    expect(readFileSync(file, 'utf8')).not.toMatch(/\$\{DS_|__inputs/);
  });

  it('shows sessions, targets, paused time and the watchdog, latency, refusals, certificate expiry and the build', () => {
    const exprs = queryPanels.flatMap((panel) => panel.targets!.map((target) => target.expr)).join('\n');
    for (const name of [
      'dbgrelay_sessions_active',
      'dbgrelay_targets_registered',
      'dbgrelay_sessions_paused',
      'dbgrelay_session_longest_pause_seconds',
      'dbgrelay_watchdog_resumes_total',
      'dbgrelay_session_attach_seconds_bucket',
      'dbgrelay_session_refusals_total',
      'dbgrelay_auth_failures_total',
      'dbgrelay_certificate_expiry_timestamp_seconds',
      'dbgrelay_build_info',
    ]) {
      expect(exprs, name).toContain(name);
    }
  });

  it('names in every query only metrics the relay exposes', async () => {
    const exposed = await exposedNames(relay);
    const exprs = [
      ...queryPanels.flatMap((panel) => panel.targets!.map((target) => target.expr)),
      ...dashboard.templating.list.filter((entry) => entry.type === 'query').map((entry) => (entry.query as { query: string }).query),
    ];
    for (const expr of exprs) expect(metricNamesOf(expr).length, expr).toBeGreaterThan(0);
    expect(missingMetrics(exprs, exposed)).toEqual([]);
    // The check itself finds a name the relay lacks, in each place a name can stand.
    expect(
      missingMetrics(
        [
          'sum by (code) (rate(dbgrelay_session_refusal_total{job=~"$job"}[$__rate_interval]))',
          'histogram_quantile(0.9, sum by (le) (rate(dbgrelay_session_attach_bucket[5m])))',
          'dbgrelay_sessions_active / on (instance) dbgrelay_no_such_gauge',
          'label_values(dbgrelay_build_infos, instance)',
        ],
        exposed,
      ),
    ).toEqual(['dbgrelay_session_refusal_total', 'dbgrelay_session_attach_bucket', 'dbgrelay_no_such_gauge', 'dbgrelay_build_infos']);
  });
});
