import { Gauge, type Registry } from 'prom-client';

/**
 * Debuggees stopped right now, computed at scrape from the running sessions: how many,
 * and for how long the longest has been (docs/operations.md "Metrics and health").
 */
export class PauseMetrics {
  private pausedSince: () => readonly number[] = () => [];

  constructor(registry: Registry) {
    const registers = [registry];
    const pauses = (): readonly number[] => this.pausedSince();
    new Gauge({
      name: 'dbgrelay_sessions_paused',
      help: 'Client sessions whose debuggee is stopped right now (at a breakpoint, a step or a pause).',
      registers,
      collect() {
        this.set(pauses().length);
      },
    });
    new Gauge({
      name: 'dbgrelay_session_longest_pause_seconds',
      help: 'How long the debuggee stopped the longest right now has been stopped, in seconds (0 when none is).',
      registers,
      collect() {
        const now = Date.now();
        this.set(pauses().reduce((longest, since) => Math.max(longest, (now - since) / 1000), 0));
      },
    });
  }

  /** Makes both gauges read `pausedSince()` at each scrape: when each stopped session's debuggee stopped (epoch ms). */
  observe(pausedSince: () => readonly number[]): void {
    this.pausedSince = pausedSince;
  }
}
