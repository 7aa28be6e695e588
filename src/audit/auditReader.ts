import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { RelayError } from '../common/relayError.js';
import type { RelayConfig } from '../config/configSchema.js';

/** One audit line as read back: the JSON object the writer appended (docs/operations.md "Audit"). */
export type AuditRecord = Readonly<Record<string, unknown>>;

/** The audit log file of a relay configuration: `audit.file`, else `<dataDir>/audit.log`. */
export function auditLogFile(config: Pick<RelayConfig, 'dataDir'> & { readonly audit: { readonly file?: string | undefined } }): string {
  return config.audit.file ?? join(config.dataDir, 'audit.log');
}

/**
 * The files of an audit log, oldest first: the rotated `<file>.<n>` (highest `n` is
 * the oldest, see `AuditLog`), then `<file>` itself. Throws `CONFIG_INVALID` when
 * none exists.
 */
export function auditLogChain(file: string): string[] {
  const name = basename(file);
  let entries: string[];
  try {
    entries = readdirSync(dirname(file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') entries = [];
    else throw new RelayError('CONFIG_INVALID', `cannot read the audit log directory ${dirname(file)} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const rotated = entries
    .map((entry) => (entry.startsWith(`${name}.`) ? /^\d{1,6}$/.exec(entry.slice(name.length + 1))?.[0] : undefined))
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => b - a)
    .map((n) => `${file}.${n}`);
  const chain = existsSync(file) ? [...rotated, file] : rotated;
  if (chain.length === 0) throw new RelayError('CONFIG_INVALID', `no audit log at ${file} (is audit.enabled on, and is this the relay's audit.file or dataDir?)`);
  return chain;
}

/** What {@link readAuditRecords} could not parse, for a note to the reader. */
export interface AuditReadStats {
  /** Lines that are not a JSON object (e.g. the last line of a crash mid-write). */
  malformed: number;
}

/**
 * Reads the records of `files` in order, one line at a time (files may be large),
 * skipping empty lines and counting the malformed ones in `stats`.
 */
export async function* readAuditRecords(files: readonly string[], stats: AuditReadStats = { malformed: 0 }): AsyncGenerator<AuditRecord> {
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        stats.malformed++;
        continue;
      }
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) yield value as AuditRecord;
      else stats.malformed++;
    }
  }
}
