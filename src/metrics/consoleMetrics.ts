import { Counter, Gauge, type Registry } from 'prom-client';

/** What the web console answers, for `dbgrelay_console_requests_total{area}`: a bounded set. */
export const consoleAreas = ['page', 'login', 'logout', 'me', 'targets', 'sessions', 'audit', 'action', 'refused'] as const;
export type ConsoleArea = (typeof consoleAreas)[number];

/** Administrators' actions from the web console. */
export const consoleActions = ['end', 'resume'] as const;
export type ConsoleAction = (typeof consoleActions)[number];

/** How an audit page's read ended: the whole answer, stopped at its byte bound, or refused while another read ran. */
export const consoleAuditScanOutcomes = ['complete', 'bounded', 'busy'] as const;
export type ConsoleAuditScanOutcome = (typeof consoleAuditScanOutcomes)[number];

/** The web console's metrics (docs/operations.md "Metrics"). */
export class ConsoleMetrics {
  /** `dbgrelay_console_requests_total{area}`: requests the console answered, by what they asked for (`refused`: any refusal). */
  readonly requests: Counter<'area'>;
  /** `dbgrelay_console_actions_total{action}`: sessions ended and programs resumed by administrators. */
  readonly actions: Counter<'action'>;
  /** `dbgrelay_console_audit_scans_total{outcome}`: audit pages read, by how the read ended. */
  readonly auditScans: Counter<'outcome'>;
  /** `dbgrelay_console_audit_scan_bytes_total`: bytes of audit log the audit pages read (bounded per page by `console.auditScanMaxBytes`). */
  readonly auditScanBytes: Counter;
  /** `dbgrelay_console_logins`: console logins held right now (bounded by `console.maxLogins`; computed at scrape). */
  readonly logins: Gauge;

  constructor(registry: Registry, heldLogins: () => number) {
    const registers = [registry];
    this.requests = new Counter({ name: 'dbgrelay_console_requests_total', help: 'Requests the web console answered, by area.', labelNames: ['area'], registers });
    for (const area of consoleAreas) this.requests.labels(area).inc(0);
    this.actions = new Counter({ name: 'dbgrelay_console_actions_total', help: 'Administrator actions taken from the web console.', labelNames: ['action'], registers });
    for (const action of consoleActions) this.actions.labels(action).inc(0);
    this.auditScans = new Counter({ name: 'dbgrelay_console_audit_scans_total', help: 'Audit pages the web console read, by outcome.', labelNames: ['outcome'], registers });
    for (const outcome of consoleAuditScanOutcomes) this.auditScans.labels(outcome).inc(0);
    this.auditScanBytes = new Counter({ name: 'dbgrelay_console_audit_scan_bytes_total', help: 'Bytes of audit log the web console read.', registers });
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
