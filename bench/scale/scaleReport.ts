import type { ArrivalResult, MemoryPoint } from './fleetPhases.js';
import type { SessionResult } from './sessionPhase.js';
import type { ClusterResult } from './clusterPhase.js';
import type { ChurnSample, ChurnSummary } from './churnPhase.js';

/** The fleet phases of one server and transport. */
export interface FleetResult {
  readonly memory: MemoryPoint[];
  readonly restart: ArrivalResult;
  readonly storm: ArrivalResult;
  /** `dbgrelay targets --json` with the whole fleet registered (the relay only). */
  readonly listing?: { targets: number; seconds: number } | undefined;
}

/** What `bench:scale` measured, as BENCHMARKS.md records it. */
export interface ScaleResults {
  readonly agents: number;
  /** By `floor tcps`, `dbgrelay tcps`, `floor wss`, `dbgrelay wss`. */
  readonly fleet: Record<string, FleetResult>;
  readonly sessions: readonly SessionResult[];
  /** Three instances behind one balancer (phase `cluster`). */
  readonly cluster?: ClusterResult | undefined;
  /** Agents and sessions coming and going for minutes (phase `churn`). */
  readonly churn?: ChurnSummary | undefined;
}

const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}×` : '–');
const fixed = (value: number | undefined, digits = 1): string => (value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits));

function failures(arrival: ArrivalResult): string {
  const entries = Object.entries(arrival.failures).sort((a, b) => b[1] - a[1]);
  const errors = entries.filter(([reason]) => reason.startsWith('error:')).reduce((sum, [, n]) => sum + n, 0);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  const top = entries
    .slice(0, 3)
    .map(([reason, n]) => `${reason.replace(/^(warning|error):/, '')} ${n}`)
    .join(', ');
  return `${total} (errors ${errors})${top ? `: ${top}` : ''}`;
}

function arrival(result: ArrivalResult): string {
  return `${fixed(result.seconds)} s${result.complete ? '' : ` (only ${result.registered})`}`;
}

/** The curve of registrations per second, compact: `[1200, 3400, …]`. */
function curve(result: ArrivalResult): string {
  return result.curve.join(' ');
}

/** Markdown tables of a `bench:scale` run, each dbgrelay figure beside its anchor and the ratio. */
export function formatScaleReport(results: ScaleResults): string {
  const lines: string[] = [];
  for (const transport of ['tcps', 'wss']) {
    const relay = results.fleet[`dbgrelay ${transport}`];
    const floor = results.fleet[`floor ${transport}`];
    if (!relay || !floor) continue;
    lines.push(`### ${transport}: idle agents`, '', '| agents | floor RSS MB | dbgrelay RSS MB | ratio | dbgrelay heap MB |', '|---:|---:|---:|---:|---:|');
    relay.memory.forEach((point, i) => {
      const base = floor.memory[i]!;
      lines.push(`| ${point.agents} | ${fixed(base.rssMB)} | ${fixed(point.rssMB)} | ${ratio(point.rssMB, base.rssMB)} | ${fixed(point.heapMB)} |`);
    });
    if (relay.listing)
      lines.push('', `\`dbgrelay targets --json\` over ${transport} with the fleet registered: ${relay.listing.targets} targets in ${fixed(relay.listing.seconds)} s.`);
    lines.push(
      '',
      `### ${transport}: ${results.agents} agents arriving`,
      '',
      '| event | floor | dbgrelay | ratio | dbgrelay failed attempts | floor failed attempts |',
      '|---|---:|---:|---:|---|---|',
    );
    for (const event of ['storm', 'restart'] as const) {
      lines.push(
        `| ${event === 'storm' ? 'cold start, all at once' : 'kill -9 + restart'} | ${arrival(floor[event])} | ${arrival(relay[event])} | ${ratio(relay[event].seconds, floor[event].seconds)} | ${failures(relay[event])} | ${failures(floor[event])} |`,
      );
    }
    lines.push(
      '',
      'Per second after the restart (from the moment the server listened): registrations / control connections dialed',
      '',
      `- dbgrelay: ${curve(relay.restart)} / ${relay.restart.attempts.join(' ')}`,
      `- floor: ${curve(floor.restart)} / ${floor.restart.attempts.join(' ')}`,
      '',
    );
  }
  if (results.sessions.length > 0) lines.push(...sessionLines(results.sessions));
  if (results.cluster) lines.push('', ...clusterLines(results.cluster));
  if (results.churn) lines.push('', ...churnLines(results.churn));
  return lines.join('\n');
}

/**
 * The sessions rows: each path against nginx and against the bare Node pipe of its
 * own listener, measured beside it (rows of one listener share `listener`). With
 * rounds, the figures are medians, and the last column gives each round's CPU ratio
 * against nginx of the same round.
 */
function sessionLines(sessions: readonly SessionResult[]): string[] {
  const anchorOf = (r: SessionResult, prefix: string): SessionResult | undefined =>
    sessions.find((s) => s.listener === r.listener && s.sessions === r.sessions && s.path.startsWith(prefix) && s !== r);
  const lines = [
    '### sessions',
    '',
    '| sessions × requests/s | path | p50 ms | p99 ms | CPU µs/request | p99 ÷ nginx | CPU ÷ nginx | p99 ÷ Node pipe | CPU ÷ Node pipe | CPU ÷ nginx by round | unanswered |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const r of sessions) {
    const nginx = r.path.startsWith('nginx') ? undefined : anchorOf(r, 'nginx');
    // the floor of a dbgrelay path is the bare pipe of its own listener
    const floor = r.path.startsWith('dbgrelay') ? anchorOf(r, 'bare Node') : undefined;
    const against = (base: SessionResult | undefined): string => (base ? `${ratio(r.p99Ms, base.p99Ms)} | ${ratio(r.cpuPerRequestUs, base.cpuPerRequestUs)}` : ' | ');
    const byRound = nginx?.rounds && r.rounds ? r.rounds.map((round, i) => ratio(round.cpuPerRequestUs, nginx.rounds![i]?.cpuPerRequestUs ?? 0)).join(' ') : '';
    lines.push(
      `| ${r.opened}/${r.sessions} × ${r.ratePerSession} | ${r.path} | ${fixed(r.p50Ms, 2)} | ${fixed(r.p99Ms, 2)} | ${fixed(r.cpuPerRequestUs, 0)} | ${against(nginx)} | ${against(floor)} | ${byRound} | ${r.unanswered} |`,
    );
  }
  return lines;
}

/** The three-instance rows: the fleet they held, and forwarded against direct requests. */
function clusterLines(cluster: ClusterResult): string[] {
  const total = cluster.perInstance.reduce((sum, one) => sum + one.rssMB, 0);
  const errors = Object.entries(cluster.failures)
    .filter(([reason]) => reason.startsWith('error:'))
    .reduce((sum, [, n]) => sum + n, 0);
  const attempts = Object.values(cluster.failures).reduce((sum, n) => sum + n, 0);
  const lines = [
    `### ${cluster.instances} instances, one Redis, nginx stream as the balancer`,
    '',
    `${cluster.registered} of ${cluster.agents} agents registered through the balancer in ${fixed(cluster.seconds)} s; failed attempts ${attempts} (errors ${errors}).`,
    '',
    '| instance | agents held | RSS MB |',
    '|---|---:|---:|',
    ...cluster.perInstance.map((one, index) => `| relay-${index} | ${one.agents} | ${fixed(one.rssMB)} |`),
    `| all | ${cluster.perInstance.reduce((sum, one) => sum + one.agents, 0)} | ${fixed(total)} |`,
    '',
    `Redis RSS: ${fixed(cluster.redisRssMB)} MB.`,
    '',
    // No CPU per request: the instances' renewals and heartbeats for the whole fleet dwarf a few requests' CPU.
    '| sessions × requests/s | path | p50 ms | p99 ms | p99 ÷ same instance | unanswered |',
    '|---|---|---:|---:|---:|---:|',
  ];
  const same = new Map(cluster.sessions.filter((r) => r.path === 'same instance').map((r) => [r.sessions, r]));
  for (const r of cluster.sessions) {
    const base = r.path === 'same instance' ? undefined : same.get(r.sessions);
    lines.push(
      `| ${r.opened}/${r.sessions} × ${r.ratePerSession} | ${r.path} | ${fixed(r.p50Ms, 2)} | ${fixed(r.p99Ms, 2)} | ${base ? ratio(r.p99Ms, base.p99Ms) : ''} | ${r.unanswered} |`,
    );
  }
  return lines;
}

/** The churn's readings: RSS, heap and descriptors over time, and per minute the least RSS and heap (the floor a leak would raise). */
function churnLines(churn: ChurnSummary): string[] {
  const failures = Object.entries(churn.sessionFailures)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  const lines = [
    `### churn: ${churn.agents} agents, ${churn.seconds} s`,
    '',
    `${churn.replacedAgents} agents left and were replaced by new ones; ${churn.sessions} sessions attached, answered and detached${failures ? ` (failed: ${failures})` : ''}.`,
  ];
  // A leak shows in the floor of the garbage collector's sawtooth: the least heap and RSS of each minute.
  const minutes = new Map<number, ChurnSample[]>();
  for (const sample of churn.samples) minutes.set(Math.floor((sample.second - 1) / 60), [...(minutes.get(Math.floor((sample.second - 1) / 60)) ?? []), sample]);
  lines.push('', '| minute | least RSS MB | least heap MB | most descriptors |', '|---:|---:|---:|---:|'); // every reading is in the --out file
  for (const [minute, samples] of minutes) {
    if (samples.length < 3) continue; // the readings of the last seconds are not a minute's floor
    const least = (pick: (sample: ChurnSample) => number | undefined): number => Math.min(...samples.map((sample) => pick(sample) ?? Number.NaN));
    lines.push(`| ${minute + 1} | ${fixed(least((s) => s.rssMB))} | ${fixed(least((s) => s.heapMB))} | ${Math.max(...samples.map((s) => s.fds))} |`);
  }
  return lines;
}
