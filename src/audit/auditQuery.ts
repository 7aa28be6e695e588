import { parseDurationSeconds } from '../common/durationText.js';
import { RelayError } from '../common/relayError.js';
import { wildcardPattern } from '../common/wildcardPattern.js';
import type { AuditRecord } from './auditReader.js';

/** Which audit records to show (`dbgrelay audit` flags); every given criterion must hold. */
export interface AuditQuery {
  /** Target name pattern (`*` any run, `?` one character, as in grants). */
  readonly target?: string;
  /** Principal id pattern, e.g. `jwt:alice`, `cert:*`. */
  readonly principal?: string;
  /** Only records at or after this time (epoch ms). */
  readonly sinceMs?: number;
  /** Only records at or before this time (epoch ms). */
  readonly untilMs?: number;
}

/**
 * Parses a time bound of `dbgrelay audit`: an ISO 8601 date or date-time
 * (`2026-11-21`, `2026-11-21T08:00:00Z`; without a zone it is local time, as
 * `Date.parse` reads it), or a relative duration back from `nowMs` (`90s`, `15m`,
 * `2h`, `1d`). Throws `BAD_REQUEST` naming `what`.
 */
export function parseAuditTime(text: string, what: string, nowMs: number = Date.now()): number {
  const value = text.trim();
  if (/^\d{1,9}[smhd]$/.test(value)) return nowMs - parseDurationSeconds(value, what) * 1000;
  if (/^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:?\d\d)?)?$/.test(value)) {
    const ms = Date.parse(value.replace(' ', 'T'));
    if (!Number.isNaN(ms)) return ms;
  }
  throw new RelayError('BAD_REQUEST', `${what}: expected an ISO time (2026-11-21T08:00:00Z) or a duration back from now (90s, 15m, 2h, 1d)`);
}

function text(record: AuditRecord, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' ? value : undefined;
}

/**
 * A test for `query` with its patterns compiled once, for the many records of one
 * read: true when a record satisfies every criterion. A record without the field a
 * criterion looks at (no `target`, no parsable `time`) does not match that criterion.
 */
export function auditQueryMatcher(query: AuditQuery): (record: AuditRecord) => boolean {
  const target = query.target === undefined ? undefined : wildcardPattern(query.target);
  const principal = query.principal === undefined ? undefined : wildcardPattern(query.principal);
  return (record) => {
    if (target !== undefined) {
      const value = text(record, 'target');
      if (value === undefined || !target.test(value)) return false;
    }
    if (principal !== undefined) {
      const value = text(record, 'principal');
      if (value === undefined || !principal.test(value)) return false;
    }
    if (query.sinceMs !== undefined || query.untilMs !== undefined) {
      const time = Date.parse(text(record, 'time') ?? '');
      if (Number.isNaN(time)) return false;
      if (query.sinceMs !== undefined && time < query.sinceMs) return false;
      if (query.untilMs !== undefined && time > query.untilMs) return false;
    }
    return true;
  };
}

/** True when `record` satisfies `query` (one record; for many, {@link auditQueryMatcher}). */
export function matchesAuditQuery(record: AuditRecord, query: AuditQuery): boolean {
  return auditQueryMatcher(query)(record);
}
