import { isRelayError } from '../common/relayError.js';
import { type AuditQuery, matchesAuditQuery, parseAuditTime } from '../audit/auditQuery.js';
import { type AuditRecord, auditLogChain, readAuditRecords } from '../audit/auditReader.js';

/** The audit view's filters, as the page sends them (query string). */
export interface ConsoleAuditFilter extends AuditQuery {
  /** Only records of this event (`session.opened`, `dap.request`, ...). */
  readonly event?: string;
}

/** One page of the audit view: the newest matching records first. */
export interface ConsoleAuditPage {
  readonly records: AuditRecord[];
  /** More records matched than the page holds. */
  readonly more: boolean;
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

/**
 * The newest `pageSize` records of the audit log at `file` (its rotated files
 * included) that match `filter` and that `visible` lets the caller see, newest first.
 * No audit log yet is an empty page. Reads the files line by line, keeping only the
 * page in memory.
 */
export async function auditPage(file: string, filter: ConsoleAuditFilter, pageSize: number, visible: (record: AuditRecord) => boolean): Promise<ConsoleAuditPage> {
  let files: string[];
  try {
    files = auditLogChain(file);
  } catch (error) {
    if (isRelayError(error, 'CONFIG_INVALID')) return { records: [], more: false };
    throw error;
  }
  const newest: AuditRecord[] = [];
  let matched = 0;
  for await (const record of readAuditRecords(files)) {
    if (filter.event !== undefined && record['event'] !== filter.event) continue;
    if (!matchesAuditQuery(record, filter) || !visible(record)) continue;
    matched++;
    newest.push(record);
    // Trimmed in batches, so that a long log costs one copy per page of records, not one per record.
    if (newest.length >= 2 * pageSize) newest.splice(0, newest.length - pageSize);
  }
  if (newest.length > pageSize) newest.splice(0, newest.length - pageSize);
  return { records: newest.reverse(), more: matched > pageSize };
}
