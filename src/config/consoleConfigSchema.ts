import { z } from 'zod';
import { flag, intBetween } from './schemaFields.js';

/**
 * Schema of `console` (docs/operations.md "Web console"): the web console the `wss`
 * listener serves under `/console/`, behind the relay's authentication. `enabled:
 * false` answers `/console/` with `NOT_FOUND`. A login lasts `loginLifetimeMs` (the
 * cookie's `Max-Age` and the relay's own expiry); at most `maxLogins` are held at once
 * (the oldest goes first), at most `maxLoginsPerPrincipal` of one principal (its own
 * oldest goes first); the audit view shows at most `auditPageSize` records per page and
 * reads at most `auditScanMaxBytes` of the audit log for one page, newest first. The
 * keys take effect at start.
 */
export const consoleConfigSchema = z.strictObject(
  {
    enabled: flag,
    loginLifetimeMs: intBetween(60_000, 86_400_000),
    maxLogins: intBetween(1, 100_000),
    maxLoginsPerPrincipal: intBetween(1, 1_000),
    auditPageSize: intBetween(1, 1_000),
    auditScanMaxBytes: intBetween(65_536, 4_294_967_296),
  },
  { error: 'expected a mapping' },
);

/**
 * Defaults: on, a working day per login, room for a large team (a few browsers each), a
 * screenful of audit records, and 64 MiB of audit log per page (a fraction of a second).
 */
export const consoleConfigDefaults = {
  enabled: true,
  loginLifetimeMs: 8 * 3_600_000,
  maxLogins: 1_000,
  maxLoginsPerPrincipal: 20,
  auditPageSize: 100,
  auditScanMaxBytes: 64 * 1_048_576,
} as const;
