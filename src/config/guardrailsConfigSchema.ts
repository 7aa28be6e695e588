import { z } from 'zod';
import { flag, intBetween } from './schemaFields.js';

/**
 * The DAP policies (docs/operations.md "Policies"), from the most to the least
 * permissive. Each one refuses everything the one before it refuses, so "the
 * stricter one wins" is a maximum over this order.
 *
 * - `full`: everything is forwarded.
 * - `no-eval`: no `evaluate`, `setVariable`, `setExpression`, `completions`,
 *   `writeMemory`, and no breakpoint with a `condition` or `hitCondition` (source,
 *   function, data, instruction and exception breakpoints). Logpoints stay allowed.
 * - `logpoints-only`: what `no-eval` refuses, and anything that can stop the process:
 *   breakpoints without a `logMessage`, function, data and instruction breakpoints,
 *   exception breakpoints, `pause`, stepping, `goto`, `restartFrame`, `restart`,
 *   `terminate`, `terminateThreads`, and `disconnect` with `terminateDebuggee: true`.
 */
export const policyNames = ['full', 'no-eval', 'logpoints-only'] as const;

/** A DAP policy name (see {@link policyNames}). */
export type PolicyName = (typeof policyNames)[number];

const mapping = { error: 'expected a mapping' };
const path = z.string({ error: 'expected a string' }).min(1, { error: 'expected a non-empty string' });
const pattern = z.string({ error: 'expected a pattern' }).regex(/^[\x21-\x7e]{1,256}$/, { error: 'expected a pattern of 1 to 256 printable characters without spaces' });
const policy = z.enum(policyNames, { error: `expected one of ${policyNames.join(', ')}` });
const maxDayMs = 86_400_000;

/** Schema of `policies` (docs/operations.md "Policies"). */
export const policiesConfigSchema = z.strictObject(
  {
    default: policy,
    targets: z.record(pattern, policy, { error: 'expected a mapping of target pattern to policy' }),
    principals: z.record(pattern, policy, { error: 'expected a mapping of principal id pattern to policy' }),
  },
  mapping,
);

/** Schema of `pauseWatchdog` (docs/operations.md "Pause watchdog"); 0 turns it off. */
export const pauseWatchdogConfigSchema = z.strictObject(
  {
    maxPauseMs: intBetween(0, maxDayMs),
    targets: z.record(pattern, intBetween(0, maxDayMs), { error: 'expected a mapping of target pattern to milliseconds' }),
  },
  mapping,
);

/** Schema of `sessions` (docs/operations.md "One debugger per target"). */
export const sessionsConfigSchema = z.strictObject(
  {
    exclusive: flag,
    detachTimeoutMs: intBetween(1, 600_000),
    takeoverTimeoutMs: intBetween(1, 600_000),
  },
  mapping,
);

/** Schema of `audit` (docs/operations.md "Audit"). */
export const auditConfigSchema = z
  .strictObject(
    {
      enabled: flag,
      /** Default `<dataDir>/audit.log`. */
      file: path.optional(),
      sync: flag,
      maxFileBytes: intBetween(4096, 2 ** 40),
      maxFiles: intBetween(1, 1000),
      maxValueChars: intBetween(16, 1024 * 1024),
      /** Bound on one record; past it lists and fields are cut, with a `truncated` marker. */
      maxRecordBytes: intBetween(1024, 1024 * 1024),
      /** What one session may write (token bucket); past it identical records are aggregated, others refused. */
      maxBytesPerSessionPerMinute: intBetween(16 * 1024, 2 ** 40),
      /** Rotation never deletes a file whose newest record is younger than this; 0 lets it. */
      minRetentionMs: intBetween(0, 366 * maxDayMs),
      /** How far past `maxFileBytes` a full log still takes the records that are never refused (session end, detach, disconnect). */
      reserveBytes: intBetween(0, 2 ** 40),
      transcripts: z.strictObject(
        {
          enabled: flag,
          /** Default `<dataDir>/transcripts`. */
          dir: path.optional(),
          maxBytes: intBetween(4096, 2 ** 40),
        },
        mapping,
      ),
    },
    mapping,
  )
  .refine((audit) => audit.maxBytesPerSessionPerMinute >= audit.maxRecordBytes, {
    path: ['maxBytesPerSessionPerMinute'],
    message: 'must be at least audit.maxRecordBytes',
  });

/** Built-in defaults of the guardrail keys (merged into configDefaults). */
export function guardrailsConfigDefaults(): Record<string, unknown> {
  return {
    policies: { default: 'full', targets: {}, principals: {} },
    pauseWatchdog: { maxPauseMs: 0, targets: {} },
    sessions: { exclusive: true, detachTimeoutMs: 5_000, takeoverTimeoutMs: 10_000 },
    audit: {
      enabled: true,
      sync: true,
      maxFileBytes: 100 * 1024 * 1024,
      maxFiles: 10,
      maxValueChars: 4096,
      maxRecordBytes: 16 * 1024,
      maxBytesPerSessionPerMinute: 512 * 1024,
      minRetentionMs: maxDayMs,
      reserveBytes: 1024 * 1024,
      transcripts: { enabled: false, maxBytes: 10 * 1024 * 1024 },
    },
  };
}
