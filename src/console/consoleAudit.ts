import { isRelayError } from '../common/relayError.js';
import { type NewestFirstStats, readAuditRecordsNewestFirst } from '../audit/auditNewestFirst.js';
import { type AuditQuery, auditQueryMatcher, parseAuditTime } from '../audit/auditQuery.js';
import { type AuditRecord, auditLogChain } from '../audit/auditReader.js';

/** The audit view's filters, as the page sends them (query string). */
export interface ConsoleAuditFilter extends AuditQuery {
  /** Only records of this event (`session.opened`, `dap.request`, ...). */
  readonly event?: string;
}

/** One page of the audit view: the newest matching records first. */
export interface ConsoleAuditPage {
  readonly records: AuditRecord[];
  /** More records matched than the page holds, or may match in the part of the log not read (`bounded`). */
  readonly more: boolean;
  /** The read stopped at its byte bound (config `console.auditScanMaxBytes`) before the page was full. */
  readonly bounded?: true;
}

/** How far one page may read, and where it counts what it read. */
export interface AuditPageReading {
  /** Bytes of audit log one page may read (config `console.auditScanMaxBytes`). */
  readonly maxScanBytes?: number;
  /** Filled with the bytes read and the malformed lines skipped. */
  readonly stats?: NewestFirstStats;
}

const filterKeys = ['target', 'principal', 'event', 'since', 'until'] as const;

/**
 * The audit view's filters from a query string: `target` and `principal` patterns
 * (`*`, `?`), an exact `event`, and `since`/`until` as `dbgrelay audit` takes them
 * (ISO time or `15m`, `2h`, ...). Empty fields are ignored. Throws `BAD_REQUEST` for a
 * time it cannot read.
 */
export function auditFilterFromQuery(query: URLSearchParams, nowMs: number = Date.now()): ConsoleAuditFilter {
  const value = (key: (typeof filterKeys)[number]): string | undefined => {
    const text = query.get(key)?.trim();
    return text === undefined || text === '' ? undefined : text.slice(0, 256);
  };
  const since = value('since');
  const until = value('until');
  const target = value('target');
  const principal = value('principal');
  const event = value('event');
  return {
    ...(target !== undefined ? { target } : {}),
    ...(principal !== undefined ? { principal } : {}),
    ...(event !== undefined ? { event } : {}),
    ...(since !== undefined ? { sinceMs: parseAuditTime(since, 'since', nowMs) } : {}),
    ...(until !== undefined ? { untilMs: parseAuditTime(until, 'until', nowMs) } : {}),
  };
}

// Records are appended in time order, so reading backwards, one written well before
// `since` means every older one is too; the margin allows for a clock stepped back.
const clockStepMarginMs = 300_000;

function writtenBefore(record: AuditRecord, ms: number): boolean {
  const time = typeof record['time'] === 'string' ? Date.parse(record['time']) : Number.NaN;
  return time < ms;
}

/**
 * The newest `pageSize` records of the audit log at `file` (its rotated files
 * included) that match `filter` and that `visible` lets the caller see, newest first.
 * No audit log yet is an empty page. Reads the log from its end backwards and stops as
 * soon as one record more than the page matched (so `more` is known), or once it read
 * `maxScanBytes` (then `more` and `bounded`: older records were not looked at), or at
 * the first record written more than five minutes before `since`.
 */
export async function auditPage(
  file: string,
  filter: ConsoleAuditFilter,
  pageSize: number,
  visible: (record: AuditRecord) => boolean,
  reading: AuditPageReading = {},
): Promise<ConsoleAuditPage> {
  let files: string[];
  try {
    files = auditLogChain(file);
  } catch (error) {
    if (isRelayError(error, 'CONFIG_INVALID')) return { records: [], more: false };
    throw error;
  }
  const stats = reading.stats ?? { bytesRead: 0, malformed: 0 };
  const maxScanBytes = reading.maxScanBytes ?? Number.POSITIVE_INFINITY;
  const matches = auditQueryMatcher(filter);
  const records: AuditRecord[] = [];
  for await (const record of readAuditRecordsNewestFirst(files, stats, maxScanBytes)) {
    if (filter.sinceMs !== undefined && writtenBefore(record, filter.sinceMs - clockStepMarginMs)) break;
    if (filter.event !== undefined && record['event'] !== filter.event) continue;
    if (!matches(record) || !visible(record)) continue;
    if (records.length === pageSize) return { records, more: true };
    records.push(record);
  }
  return stats.stopped ? { records, more: true, bounded: true } : { records, more: false };
}
