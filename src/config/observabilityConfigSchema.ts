import { z } from 'zod';
import { intBetween, nonEmptyString } from './schemaFields.js';

/**
 * Schema of `metrics` (docs/operations.md "Metrics and health"): the separate HTTP
 * listener that serves `/metrics`, `/healthz` and `/readyz`. Plain HTTP on purpose
 * (Prometheus and kubelet probes speak it); keep it on loopback or a private network,
 * and set `bearerTokenFile` when others can reach it.
 */
export const metricsConfigSchema = z.strictObject(
  {
    enabled: z.boolean({ error: 'expected true or false' }),
    host: nonEmptyString,
    port: intBetween(0, 65535),
    /** File holding the bearer token `/metrics` requires; unset: no authentication. */
    bearerTokenFile: nonEmptyString.optional(),
  },
  { error: 'expected a mapping' },
);

/** The validated `metrics` section. */
export type MetricsConfig = Readonly<z.infer<typeof metricsConfigSchema>>;

/**
 * Built-in defaults of `metrics`. Off by default so that several relays (tests, a
 * developer's machine) never fight over one fixed port; every deploy/ artifact turns
 * it on. 9464 is the port commonly used for Prometheus exporters of this kind.
 */
export function metricsConfigDefaults(): Record<string, unknown> {
  return { metrics: { enabled: false, host: '127.0.0.1', port: 9464 } };
}
