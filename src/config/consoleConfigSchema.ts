import { z } from 'zod';
import { flag, intBetween } from './schemaFields.js';

/**
 * Schema of `console` (docs/operations.md "Web console"): the web console the `wss`
 * listener serves under `/console/`, behind the relay's authentication. `enabled:
 * false` answers `/console/` with `NOT_FOUND`. A login lasts `loginLifetimeMs` (the
 * cookie's `Max-Age` and the relay's own expiry); at most `maxLogins` are held at once
 * (the oldest goes first); the audit view shows at most `auditPageSize` records per
 * page. The keys take effect at start.
 */
export const consoleConfigSchema = z.strictObject(
  {
    enabled: flag,
    loginLifetimeMs: intBetween(60_000, 86_400_000),
    maxLogins: intBetween(1, 100_000),
    auditPageSize: intBetween(1, 1_000),
  },
  { error: 'expected a mapping' },
);

/** Defaults: on, a working day per login, room for a large team, a screenful of audit records. */
export const consoleConfigDefaults = { enabled: true, loginLifetimeMs: 8 * 3_600_000, maxLogins: 1_000, auditPageSize: 100 } as const;
