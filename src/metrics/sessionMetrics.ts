import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RelayErrorCode } from '../common/relayError.js';
import { dapCommandLabel } from './dapCommandLabel.js';

/**
 * How a session request ended, the `outcome` label of `dbgrelay_sessions_total`:
 * `ended` (forwarded DAP, then closed by either side), `protocolError` (ended by a
 * malformed or oversized DAP stream), `refused` (the broker refused it, see
 * `dbgrelay_session_refusals_total`), `clientLeft` (the client went away before it was
 * accepted), `failed` (accepted, but could not start, e.g. the audit log was unavailable).
 */
export const sessionOutcomes = ['ended', 'protocolError', 'refused', 'clientLeft', 'failed'] as const;

/** A value of {@link sessionOutcomes}. */
export type SessionOutcome = (typeof sessionOutcomes)[number];

/** Which way relayed bytes travel, the `direction` label of `dbgrelay_relayed_bytes_total`. */
export const byteDirections = ['client_to_target', 'target_to_client'] as const;

/**
 * Seconds from a client's session request to the agent's data connection being
 * there (the attach latency the engineer waits for before any DAP byte flows).
 */
const attachBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Debugging sessions last seconds to hours. */
const durationBuckets = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 28800];

/**
 * Session and DAP traffic metrics (docs/operations.md "Metrics and health"), in one
 * relay's registry. Label values come from fixed sets only (outcomes, error codes,
 * directions, known DAP commands): never a target, principal or address.
 */
export class SessionMetrics {
  /** `dbgrelay_sessions_total{outcome}`: session requests by how they ended. */
  readonly sessions: Counter<'outcome'>;
  /** `dbgrelay_session_refusals_total{code}`: refused session requests by error code. */
  readonly refusals: Counter<'code'>;
  /** `dbgrelay_sessions_active`: sessions forwarding DAP right now (computed at scrape). */
  readonly active: Gauge;
  /** `dbgrelay_session_attach_seconds`: time to open a session (request to agent connected). */
  readonly attachSeconds: Histogram;
  /** `dbgrelay_session_duration_seconds`: how long sessions forwarded DAP. */
  readonly durationSeconds: Histogram;
  /** `dbgrelay_relayed_bytes_total{direction}`: DAP bytes forwarded (framing included). */
  readonly bytes: Counter<'direction'>;
  /** `dbgrelay_dap_requests_total{command}`: DAP requests from clients by command. */
  readonly requests: Counter<'command'>;
  /**
   * What {@link countMessage} counted since the last scrape: plain numbers on the path
   * of every DAP message, handed to the two counters when they are read.
   */
  private bytesToTarget = 0;
  private bytesToClient = 0;
  private readonly requestsByCommand = new Map<string, number>();
  private activeSource: () => number = () => 0;

  constructor(registry: Registry) {
    const registers = [registry];
    const source = (): number => this.activeSource();
    this.sessions = new Counter({
      name: 'dbgrelay_sessions_total',
      help: 'Client session requests by outcome: ended, protocolError, refused, clientLeft, failed.',
      labelNames: ['outcome'] as const,
      registers,
    });
    for (const outcome of sessionOutcomes) this.sessions.inc({ outcome }, 0);
    this.refusals = new Counter({
      name: 'dbgrelay_session_refusals_total',
      help: 'Client session requests the relay refused, by dbgrelay error code.',
      labelNames: ['code'] as const,
      registers,
    });
    this.active = new Gauge({
      name: 'dbgrelay_sessions_active',
      help: 'Client sessions forwarding DAP right now.',
      registers,
      collect() {
        this.set(source());
      },
    });
    this.attachSeconds = new Histogram({
      name: 'dbgrelay_session_attach_seconds',
      help: 'Time from a client session request until the agent connected its side (attach latency).',
      buckets: attachBuckets,
      registers,
    });
    this.durationSeconds = new Histogram({
      name: 'dbgrelay_session_duration_seconds',
      help: 'How long client sessions forwarded DAP, from start to end.',
      buckets: durationBuckets,
      registers,
    });
    this.bytes = new Counter({
      name: 'dbgrelay_relayed_bytes_total',
      help: 'DAP bytes (headers and bodies) forwarded between clients and targets, by direction.',
      labelNames: ['direction'] as const,
      registers,
      collect: () => this.flushMessageCounts(),
    });
    for (const direction of byteDirections) this.bytes.inc({ direction }, 0);
    this.requests = new Counter({
      name: 'dbgrelay_dap_requests_total',
      help: 'DAP requests sent by clients, by command (known DAP commands; anything else is "other").',
      labelNames: ['command'] as const,
      registers,
      collect: () => this.flushMessageCounts(),
    });
  }

  /** Hands the counts kept since the last scrape to the two counters. */
  private flushMessageCounts(): void {
    if (this.bytesToTarget > 0) this.bytes.inc({ direction: 'client_to_target' }, this.bytesToTarget);
    if (this.bytesToClient > 0) this.bytes.inc({ direction: 'target_to_client' }, this.bytesToClient);
    this.bytesToTarget = 0;
    this.bytesToClient = 0;
    for (const [command, count] of this.requestsByCommand) this.requests.inc({ command }, count);
    this.requestsByCommand.clear();
  }

  /** Makes `dbgrelay_sessions_active` report `count()` at each scrape. */
  observeActive(count: () => number): void {
    this.activeSource = count;
  }

  /** Counts one session request that ended with `outcome` (refusals: with their `code`). */
  countOutcome(outcome: SessionOutcome, code?: RelayErrorCode | 'INTERNAL'): void {
    this.sessions.inc({ outcome });
    if (outcome === 'refused' && code !== undefined) this.refusals.inc({ code });
  }

  /**
   * Counts one DAP message that crossed a session's pipe: its bytes, and, for a
   * request from the client (`requestCommand` given), its command (bounded by
   * {@link dapCommandLabel}).
   */
  countMessage(toTarget: boolean, bytes: number, requestCommand?: unknown): void {
    if (!toTarget) {
      this.bytesToClient += bytes;
      return;
    }
    this.bytesToTarget += bytes;
    if (requestCommand === undefined) return;
    const command = dapCommandLabel(requestCommand);
    this.requestsByCommand.set(command, (this.requestsByCommand.get(command) ?? 0) + 1);
  }
}
