/** Latency samples (milliseconds) of one path through which the benchmark ran. */
export interface PathResult {
  readonly label: string;
  readonly attach: number[];
  readonly threads: number[];
  readonly evaluate: number[];
  readonly initialize: number[];
  /** Label of the direct path to the same debuggee that this path is compared with. */
  readonly baseline?: string;
}

/** Nearest-rank percentile of `samples` (p in 0..100). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

const ms = (value: number): string => (value >= 10 ? value.toFixed(1) : value.toFixed(2));

/**
 * Markdown tables: p50/p99 per path and request kind; then the ratios the targets
 * speak of (stock ÷ relay for requests reaching the debuggee; each forwarder's added
 * p50 over the direct, fixed debuggee).
 */
export function formatTable(results: readonly PathResult[], run: { requests: number; attaches: number; rounds: number }): string {
  const kinds = ['threads', 'evaluate', 'initialize', 'attach'] as const;
  const lines = [
    `p50 / p99 in ms; ${run.requests} sequential requests per kind and ${run.attaches} attaches per path, in ${run.rounds} interleaved rounds.`,
    '',
    `| path | ${kinds.map((k) => `${k} p50 / p99`).join(' | ')} |`,
    `|---|${kinds.map(() => '---:').join('|')}|`,
  ];
  for (const r of results) {
    lines.push(`| ${r.label} | ${kinds.map((k) => `${ms(percentile(r[k], 50))} / ${ms(percentile(r[k], 99))}`).join(' | ')} |`);
  }
  const stock = results.find((r) => r.label.includes('stock'));
  const byLabel = new Map(results.map((r) => [r.label, r]));
  const ssh = results.find((r) => r.label.startsWith('ssh'));
  const added = (r: PathResult, kind: 'threads' | 'initialize'): number => percentile(r[kind], 50) - percentile(byLabel.get(r.baseline!)![kind], 50);
  if (stock) {
    lines.push(
      '',
      '| path | stock ÷ path, threads p50 | stock ÷ path, evaluate p50 | added over direct, threads p50 | added over direct, initialize p50 | threads added ÷ ssh -L added |',
      '|---|---:|---:|---:|---:|---:|',
    );
    for (const r of results.filter((x) => x !== stock)) {
      const ratio = (kind: 'threads' | 'evaluate') => `${(percentile(stock[kind], 50) / percentile(r[kind], 50)).toFixed(1)}×`;
      const compared = r.baseline && byLabel.has(r.baseline);
      lines.push(
        `| ${r.label} | ${ratio('threads')} | ${ratio('evaluate')} | ${compared ? ms(added(r, 'threads')) : '—'} | ${compared ? ms(added(r, 'initialize')) : '—'} | ${compared && ssh ? (added(r, 'threads') / added(ssh, 'threads')).toFixed(2) : '—'} |`,
      );
    }
  }
  return lines.join('\n') + '\n';
}
