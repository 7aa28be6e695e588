import { Counter, Gauge, Registry } from 'prom-client';
import { packageVersion } from '../common/packageVersion.js';
import type { RelayErrorCode } from '../common/relayError.js';
import { AgentMetrics, SshMetrics } from './agentMetrics.js';
import { CertificateMetrics } from './certificateMetrics.js';
import { GuardrailMetrics } from './guardrailMetrics.js';
import { PauseMetrics } from './pauseMetrics.js';
import { SessionMetrics } from './sessionMetrics.js';

/** Refusal reasons pre-declared at 0, so that rate() and alerts see the series from the start. */
const knownAuthFailureReasons: readonly RelayErrorCode[] = ['AUTH_REQUIRED', 'AUTH_FAILED', 'AUTH_LOCKED'];

/** Authentication metrics (docs/operations.md "Metrics"). */
export interface AuthMetrics {
  /** `dbgrelay_auth_failures_total{reason}`: refused authentications by {@link RelayErrorCode}. */
  readonly failures: Counter<'reason'>;
  /** `dbgrelay_auth_lockouts_total`: lockouts started (a source locked out). */
  readonly lockouts: Counter;
  /** `dbgrelay_auth_locked_sources`: sources locked out right now (computed at scrape). */
  readonly lockedSources: Gauge;
  /** `dbgrelay_auth_lockout_table_full_total`: failures from a source the lockout table, full of locked keys, could not track. */
  readonly lockoutTableFull: Counter;
  /** `dbgrelay_auth_attach_closings_total`: targets closed to attach-secret guesses (per-target failures). */
  readonly attachClosings: Counter;
  /** `dbgrelay_auth_attach_table_full_total`: attach-secret failures on a target the full guess table could not track. */
  readonly attachTableFull: Counter;
  /** `dbgrelay_auth_attach_closed_targets`: targets closed to attach-secret guesses right now (computed at scrape). */
  readonly attachClosedTargets: Gauge;
}

/**
 * The metrics of one relay instance, in a {@link Registry} of its own (never
 * prom-client's global default registry, so two relays in one process, as in tests,
 * do not share counters). Label values are bounded sets (error codes, transports,
 * outcomes, DAP command names from a fixed list); never a secret, a target name, an address or other user input.
 */
export class RelayMetrics {
  /** The registry to expose (a `/metrics` endpoint serializes it with `metrics()`). */
  readonly registry = new Registry();
  readonly auth: AuthMetrics;
  /** DAP refusals and pause-watchdog resumes (the session guardrails). */
  readonly guardrails: GuardrailMetrics;
  /** Sessions, attach latency, durations, relayed bytes, DAP requests by command. */
  readonly sessions: SessionMetrics;
  /** Connected agents, registered targets, heartbeat misses. */
  readonly agents: AgentMetrics;
  /** SSH connections to SSH targets (the SSH transport sets it). */
  readonly ssh: SshMetrics;
  /** When each certificate the relay presents or trusts expires. */
  readonly certificates: CertificateMetrics;
  /** Debuggees stopped right now and the longest pause (computed at scrape). */
  readonly pauses: PauseMetrics;

  /** `lockedSources` and `closedTargets` are asked for the current numbers of locked sources and closed targets at each scrape. */
  constructor(lockedSources: () => number = () => 0, closedTargets: () => number = () => 0) {
    const registers = [this.registry];
    this.guardrails = new GuardrailMetrics(this.registry);
    this.sessions = new SessionMetrics(this.registry);
    this.agents = new AgentMetrics(this.registry);
    this.ssh = new SshMetrics(this.registry);
    this.certificates = new CertificateMetrics(this.registry);
    this.pauses = new PauseMetrics(this.registry);
    // Which build answers: one series, always 1 (the Prometheus "info" convention).
    new Gauge({ name: 'dbgrelay_build_info', help: 'The dbgrelay version this relay runs (always 1).', labelNames: ['version'] as const, registers }).set(
      { version: packageVersion },
      1,
    );
    const failures = new Counter({
      name: 'dbgrelay_auth_failures_total',
      help: 'Refused authentication attempts, by reason (a dbgrelay error code).',
      labelNames: ['reason'] as const,
      registers,
    });
    for (const reason of knownAuthFailureReasons) failures.inc({ reason }, 0);
    this.auth = {
      failures,
      lockouts: new Counter({
        name: 'dbgrelay_auth_lockouts_total',
        help: 'Sources locked out after repeated authentication failures.',
        registers,
      }),
      lockedSources: new Gauge({
        name: 'dbgrelay_auth_locked_sources',
        help: 'Sources (IPv4 addresses, IPv6 /64 prefixes) locked out right now.',
        registers,
        collect() {
          this.set(lockedSources());
        },
      }),
      lockoutTableFull: new Counter({
        name: 'dbgrelay_auth_lockout_table_full_total',
        help: 'Failed authentications from a source the lockout table, full of locked sources, could not track (counted for its /24 or /48 network instead).',
        registers,
      }),
      attachClosings: new Counter({
        name: 'dbgrelay_auth_attach_closings_total',
        help: 'Targets closed to attach-secret guesses after repeated failures on them, from any sources.',
        registers,
      }),
      attachTableFull: new Counter({
        name: 'dbgrelay_auth_attach_table_full_total',
        help: 'Failed attach-secret attempts on a target the guess table, full of closed targets, could not track (compared and counted, closing no target).',
        registers,
      }),
      attachClosedTargets: new Gauge({
        name: 'dbgrelay_auth_attach_closed_targets',
        help: 'Targets closed to attach-secret guesses right now.',
        registers,
        collect() {
          this.set(closedTargets());
        },
      }),
    };
  }

  /** Current value of a metric series (tests, health checks); 0 when absent. */
  async valueOf(name: string, labels: Readonly<Record<string, string>> = {}): Promise<number> {
    const metric = this.registry.getSingleMetric(name);
    if (!metric) return 0;
    const { values } = await metric.get();
    const match = values.find((value) => Object.entries(labels).every(([key, wanted]) => String(value.labels[key]) === wanted));
    return match?.value ?? 0;
  }
}
