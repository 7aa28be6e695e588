import { createHash } from 'node:crypto';
import type { AuditEvent } from './auditEvent.js';
import { cutsCode } from './auditedCode.js';

/** Room left in a record for the `time` field the writer adds (`"time":"<ISO 8601>",` is 34 bytes). */
export const auditTimeBytes = 40;

/** Fields that say what a record is; kept (clipped) when everything else is cut. */
const identityFields = new Set([
  'time',
  'event',
  'session',
  'principal',
  'method',
  'target',
  'via',
  'client',
  'command',
  'direction',
  'policy',
  'guard',
  'code',
  'repeated',
  'since',
]);

/** What is kept of a string or a value that does not fit. */
const shortChars = 64;

/** A record cut to its bound, with what the cut needs to be told apart. */
export interface BoundedAuditEvent {
  /** The record, at most `maxBytes` as JSON; when cut, with a `truncated` field (see {@link boundAuditEvent}). */
  readonly event: AuditEvent;
  /** UTF-8 bytes of `event` as JSON. */
  readonly bytes: number;
  /** SHA-256 (hex) of the record as it was given: identical records have identical digests. */
  readonly digest: string;
  /** The cut changed or left out a code-bearing field (`auditedCode.ts`): a request with such a record must not run. */
  readonly codeCut: boolean;
}

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

function clipString(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max)}…[${value.length - max} more]` : value;
}

/**
 * `event` bounded to `maxBytes` of JSON (at least 1024). A record that fits is returned
 * as it is. One that does not keeps its identity fields (event, session, principal,
 * command, ...) and as much of the rest as fits, cut in this order: the longest prefix
 * of each list (e.g. `breakpoints`, largest list first), then the other fields, largest
 * first (a string to its first 64 characters, any other value to the start of its
 * JSON), then every string. It gains `truncated: {bytes, sha256, dropped?}`: the
 * record's full size and digest, and how many list items or fields were left out.
 */
export function boundAuditEvent(event: AuditEvent, maxBytes: number): BoundedAuditEvent {
  const json = JSON.stringify(event);
  const bytes = Buffer.byteLength(json);
  const digest = createHash('sha256').update(json).digest('hex');
  if (bytes <= maxBytes) return { event, bytes, digest, codeCut: false };

  const fields: Record<string, unknown> = { ...event };
  const dropped: Record<string, number> = {};
  const build = (): AuditEvent => ({ ...(fields as AuditEvent), truncated: { bytes, sha256: digest, ...(Object.keys(dropped).length > 0 ? { dropped: { ...dropped } } : {}) } });
  const fits = (): boolean => jsonBytes(build()) <= maxBytes;
  const bySize = (keys: string[]): string[] => keys.sort((a, b) => jsonBytes(fields[b]) - jsonBytes(fields[a]));
  const cuttable = Object.keys(fields).filter((key) => !identityFields.has(key));

  for (const key of bySize(cuttable.filter((key) => Array.isArray(fields[key])))) {
    if (fits()) break;
    const list = fields[key] as unknown[];
    // The longest prefix that fits (binary search; 0 when none does).
    let low = 0;
    let high = list.length;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      fields[key] = list.slice(0, mid);
      dropped[key] = list.length - mid;
      if (fits()) low = mid;
      else high = mid - 1;
    }
    fields[key] = list.slice(0, low);
    dropped[key] = list.length - low;
    if (dropped[key] === 0) delete dropped[key];
  }
  for (const key of bySize(cuttable)) {
    if (fits()) break;
    const value = fields[key];
    if (Array.isArray(value) && value.length === 0) continue;
    fields[key] = clipString(typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)), shortChars);
  }
  if (!fits()) {
    for (const [key, value] of Object.entries(fields)) if (typeof value === 'string') fields[key] = clipString(value, shortChars);
  }
  if (!fits()) {
    // Only a record with very many fields gets here: keep what says what it was.
    const others = Object.keys(fields).filter((key) => !['event', 'session', 'command'].includes(key));
    for (const key of others) delete fields[key];
    for (const key of Object.keys(dropped)) delete dropped[key];
    dropped['fields'] = others.length;
  }
  const bounded = build();
  return { event: bounded, bytes: jsonBytes(bounded), digest, codeCut: cutsCode(event, bounded) };
}
