import { printable } from '../common/printable.js';
import type { AuditRecord } from './auditReader.js';

/** Fields shown in their own columns (or at the end, `session`), never among the details. */
const columnFields = new Set(['time', 'event', 'principal', 'target', 'command', 'session']);

/** Fields every session record repeats; shown only where they say something new. */
const connectionFields = ['via', 'client', 'method'];

/** Events whose details start with where the client came from. */
const showsConnection = new Set(['session.opened', 'session.refused', 'session.takenOver']);

/** Bound on one detail value in the readable view (`--json` shows everything). */
const maxValueChars = 300;

function clip(value: string): string {
  return value.length > maxValueChars ? `${value.slice(0, maxValueChars)}…` : value;
}

/** One value for a `key=value` detail: bare when it is a plain word, else JSON; always one printable line. */
export function formatAuditValue(value: unknown): string {
  if (typeof value === 'string') return printable(clip(/^[\w.:/@*?+-]+$/.test(value) ? value : JSON.stringify(value)));
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return printable(clip(JSON.stringify(value) ?? String(value)));
}

function column(record: AuditRecord, key: string): string {
  const value = record[key];
  return value === undefined ? '-' : typeof value === 'string' ? printable(value) : formatAuditValue(value);
}

/**
 * One audit record as one readable line: time, principal, target, the event (with
 * the DAP command, for `dap.*` records), then the record's salient fields as
 * `key=value` (for `dap.request`: the request's recorded arguments, such as the
 * `evaluate` expression), and the session id last. Control characters are replaced,
 * so a recorded expression cannot rewrite the terminal.
 */
export function formatAuditRecord(record: AuditRecord): string {
  const event = typeof record['command'] === 'string' ? `${column(record, 'event')} ${column(record, 'command')}` : column(record, 'event');
  const keys = Object.keys(record).filter((key) => !columnFields.has(key) && record[key] !== undefined);
  const eventName = String(record['event']);
  const ordered = showsConnection.has(eventName)
    ? [...connectionFields.filter((key) => keys.includes(key)), ...keys.filter((key) => !connectionFields.includes(key))]
    : keys.filter((key) => !connectionFields.includes(key));
  const details = ordered.map((key) => `${key}=${formatAuditValue(record[key])}`);
  if (record['session'] !== undefined) details.push(`session=${formatAuditValue(record['session'])}`);
  const columns = [column(record, 'time'), column(record, 'principal').padEnd(18), column(record, 'target').padEnd(12), event.padEnd(26)];
  return [...columns, details.join(' ')].join('  ').trimEnd();
}
