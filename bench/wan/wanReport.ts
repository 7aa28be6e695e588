import { percentile } from '../tools/stats.js';

/** The samples of one path at one round-trip time, in milliseconds. */
export interface WanResult {
  readonly path: string;
  readonly rttMs: number;
  readonly attach: number[];
  readonly steps: number[];
  readonly expand: number[];
  readonly evaluate: number[];
}

const kinds = ['attach', 'steps', 'expand', 'evaluate'] as const;
const heads: Record<(typeof kinds)[number], string> = { attach: 'attach to first view', steps: 'step to view', expand: 'expand', evaluate: 'evaluate' };

/** `median ms (median ÷ RTT round trips)`; at RTT 0 the milliseconds alone. */
function cell(samples: readonly number[], rttMs: number): string {
  const median = percentile(samples, 50);
  const ms = median >= 100 ? median.toFixed(0) : median.toFixed(1);
  return rttMs > 0 ? `${ms} (${(median / rttMs).toFixed(2)})` : ms;
}

/** Markdown: one table per round-trip time, medians in ms and in round trips (ms ÷ RTT). */
export function formatWanTables(results: readonly WanResult[], run: { sessions: number; steps: number; relayShare: number }): string {
  const lines = [
    `Medians in ms, and in round trips (ms ÷ RTT) in brackets; ${run.sessions} sessions per path and RTT, each: one attach, one expand, one evaluate, ${run.steps} steps.`,
    `The relay's paths split the RTT: ${Math.round(run.relayShare * 100)} % between client and relay, the rest between relay and agent.`,
  ];
  for (const rttMs of [...new Set(results.map((r) => r.rttMs))]) {
    lines.push('', `**RTT ${rttMs} ms**`, '', `| path | ${kinds.map((k) => heads[k]).join(' | ')} |`, `|---|${kinds.map(() => '---:').join('|')}|`);
    for (const result of results.filter((r) => r.rttMs === rttMs)) lines.push(`| ${result.path} | ${kinds.map((k) => cell(result[k], rttMs)).join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}
