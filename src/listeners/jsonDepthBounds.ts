import type { JsonDepthBound } from '../common/jsonDepth.js';
import type { JsonDepthMetrics, JsonTextKind } from '../metrics/jsonDepthMetrics.js';

/**
 * The nesting bound of each kind of JSON text the relay parses from the network
 * (config `limits.maxJsonDepth`), each counting its own refusals.
 */
export type RelayJsonDepthBounds = Readonly<Record<JsonTextKind, JsonDepthBound>>;

/** {@link RelayJsonDepthBounds} of `maxDepth` levels, counted in `metrics` when given. */
export function relayJsonDepthBounds(maxDepth: number, metrics?: JsonDepthMetrics): RelayJsonDepthBounds {
  const bound = (message: JsonTextKind): JsonDepthBound => (metrics ? { maxDepth, onRefused: () => metrics.refusals.inc({ message }) } : { maxDepth });
  return { dap: bound('dap'), control: bound('control'), hello: bound('hello') };
}
