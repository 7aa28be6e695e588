import { Counter, Gauge, type Registry } from 'prom-client';

/** Why the built-in SSH server closed a connection at once, the `reason` label of `dbgrelay_ssh_server_refusals_total`. */
export const sshServerRefusalReasons = ['maxStartupsFull', 'maxStartupsEarlyDrop', 'maxStartupsPerSource', 'maxConnections'] as const;

/** A value of {@link sshServerRefusalReasons}. */
export type SshServerRefusalReason = (typeof sshServerRefusalReasons)[number];

/** Metrics of the built-in SSH server's connection caps (docs/operations.md "Caps before authentication"). */
export class SshServerMetrics {
  /**
   * `dbgrelay_ssh_server_refusals_total{reason}`: connections closed at accept
   * (`sshServer.maxStartups`: full or random early drop; `sshServer.maxStartupsPerSource`)
   * or at authentication
   * (`sshServer.maxConnections`).
   */
  readonly refusals: Counter<'reason'>;
  /** `dbgrelay_ssh_server_unauthenticated_connections`: connections accepted and not yet authenticated. */
  readonly unauthenticated: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.refusals = new Counter({
      name: 'dbgrelay_ssh_server_refusals_total',
      help: 'Connections the built-in SSH server closed at once, by reason: maxStartupsFull, maxStartupsEarlyDrop, maxStartupsPerSource (at accept), maxConnections (at authentication).',
      labelNames: ['reason'] as const,
      registers,
    });
    for (const reason of sshServerRefusalReasons) this.refusals.inc({ reason }, 0);
    this.unauthenticated = new Gauge({
      name: 'dbgrelay_ssh_server_unauthenticated_connections',
      help: 'Connections to the built-in SSH server accepted and not yet authenticated (sshServer.maxStartups counts them).',
      registers,
    });
    this.unauthenticated.set(0);
  }
}
