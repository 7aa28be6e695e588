import { Counter, type Registry } from 'prom-client';

/**
 * The kinds of JSON text the relay parses from the network, the `message` label of
 * `dbgrelay_json_depth_refusals_total`: DAP messages (from clients and agents),
 * agent control messages, tcps hello lines.
 */
export const jsonTextKinds = ['dap', 'control', 'hello'] as const;

/** A value of {@link jsonTextKinds}. */
export type JsonTextKind = (typeof jsonTextKinds)[number];

/** Texts refused for nesting deeper than `limits.maxJsonDepth` (docs/operations.md "Limits"). */
export class JsonDepthMetrics {
  /** `dbgrelay_json_depth_refusals_total{message}`: texts refused before parsing, by kind. */
  readonly refusals: Counter<'message'>;

  constructor(registry: Registry) {
    this.refusals = new Counter({
      name: 'dbgrelay_json_depth_refusals_total',
      help: 'JSON texts from the network (DAP messages, control messages, hello lines) refused because they nest deeper than limits.maxJsonDepth.',
      labelNames: ['message'] as const,
      registers: [registry],
    });
    for (const message of jsonTextKinds) this.refusals.inc({ message }, 0);
  }
}
