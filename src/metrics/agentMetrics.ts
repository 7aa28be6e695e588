import { Counter, Gauge, type Registry } from 'prom-client';

/** Transports of agent control connections, the `transport` label of `dbgrelay_agents_connected`. */
export const agentTransports = ['wss', 'tcps'] as const;

/** What {@link AgentMetrics} asks at each scrape. */
export interface AgentMetricsSource {
  /** Open control connections (registered or not) by transport. */
  connections(): Readonly<Record<(typeof agentTransports)[number], number>>;
  /** Registered targets. */
  targets(): number;
}

/**
 * Agent metrics (docs/operations.md "Metrics and health"), in one relay's registry.
 * The gauges are computed at scrape time from the relay's agent hub and target
 * registry (see {@link observe}), so they can never drift from the truth.
 */
export class AgentMetrics {
  /** `dbgrelay_agents_connected{transport}`: open agent control connections. */
  readonly connected: Gauge<'transport'>;
  /** `dbgrelay_targets_registered`: targets registered right now. */
  readonly targets: Gauge;
  /** `dbgrelay_agent_heartbeat_misses_total`: agents dropped because their heartbeat deadline passed. */
  readonly heartbeatMisses: Counter;
  /** `dbgrelay_agent_labels_refused_total`: `register` messages refused because the labels passed their bounds (docs/protocol.md §5). */
  readonly labelsRefused: Counter;
  private source: AgentMetricsSource = { connections: () => ({ wss: 0, tcps: 0 }), targets: () => 0 };

  constructor(registry: Registry) {
    const registers = [registry];
    const metrics = this;
    this.connected = new Gauge({
      name: 'dbgrelay_agents_connected',
      help: 'Agent control connections open right now, by transport.',
      labelNames: ['transport'] as const,
      registers,
      collect() {
        const counts = metrics.source.connections();
        for (const transport of agentTransports) this.set({ transport }, counts[transport]);
      },
    });
    this.targets = new Gauge({
      name: 'dbgrelay_targets_registered',
      help: 'Targets registered by connected agents right now.',
      registers,
      collect() {
        this.set(metrics.source.targets());
      },
    });
    this.heartbeatMisses = new Counter({
      name: 'dbgrelay_agent_heartbeat_misses_total',
      help: 'Agent control connections closed because no message arrived before the heartbeat deadline.',
      registers,
    });
    this.labelsRefused = new Counter({
      name: 'dbgrelay_agent_labels_refused_total',
      help: 'Agent register messages refused because the target labels passed their bounds (32 labels, 64/256 characters, 2048 bytes in all).',
      registers,
    });
  }

  /** Makes the gauges report from `source` at each scrape. */
  observe(source: AgentMetricsSource): void {
    this.source = source;
  }
}

/**
 * `dbgrelay_ssh_connections`: SSH connections the relay holds to SSH targets right
 * now. Defined (at 0) before the SSH transport exists, so dashboards and alerts can
 * refer to it; the SSH code counts with {@link opened} or sets it with {@link set}.
 */
export class SshMetrics {
  /** The gauge itself. */
  readonly connections: Gauge;

  constructor(registry: Registry) {
    this.connections = new Gauge({
      name: 'dbgrelay_ssh_connections',
      help: 'SSH connections from the relay to SSH targets open right now.',
      registers: [registry],
    });
    this.connections.set(0);
  }

  /** Counts one SSH connection as open; call the returned function (once) when it closes. */
  opened(): () => void {
    this.connections.inc();
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      this.connections.dec();
    };
  }

  /** Sets the number of open SSH connections. */
  set(count: number): void {
    this.connections.set(count);
  }
}
