import { Counter, Gauge, type Registry } from 'prom-client';

/** What the web console answers, for `dbgrelay_console_requests_total{area}`: a bounded set. */
export const consoleAreas = ['page', 'login', 'logout', 'me', 'targets', 'sessions', 'audit', 'action', 'refused'] as const;
export type ConsoleArea = (typeof consoleAreas)[number];

/** Administrators' actions from the web console. */
export const consoleActions = ['end', 'resume'] as const;
export type ConsoleAction = (typeof consoleActions)[number];

/** The web console's metrics (docs/operations.md "Metrics"). */
export class ConsoleMetrics {
  /** `dbgrelay_console_requests_total{area}`: requests the console answered, by what they asked for (`refused`: any refusal). */
  readonly requests: Counter<'area'>;
  /** `dbgrelay_console_actions_total{action}`: sessions ended and programs resumed by administrators. */
  readonly actions: Counter<'action'>;
  /** `dbgrelay_console_logins`: console logins held right now (bounded by `console.maxLogins`; computed at scrape). */
  readonly logins: Gauge;

  constructor(registry: Registry, heldLogins: () => number) {
    const registers = [registry];
    this.requests = new Counter({ name: 'dbgrelay_console_requests_total', help: 'Requests the web console answered, by area.', labelNames: ['area'], registers });
    for (const area of consoleAreas) this.requests.labels(area).inc(0);
    this.actions = new Counter({ name: 'dbgrelay_console_actions_total', help: 'Administrator actions taken from the web console.', labelNames: ['action'], registers });
    for (const action of consoleActions) this.actions.labels(action).inc(0);
    this.logins = new Gauge({
      name: 'dbgrelay_console_logins',
      help: 'Web console logins held right now.',
      registers,
      collect() {
        this.set(heldLogins());
      },
    });
  }
}
