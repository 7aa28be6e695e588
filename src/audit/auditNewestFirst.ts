import { open } from 'node:fs/promises';
import type { AuditRecord } from './auditReader.js';

/** What {@link readAuditRecordsNewestFirst} read so far. */
export interface NewestFirstStats {
  /** Bytes read from the files. */
  bytesRead: number;
  /** Lines that are not a JSON object. */
  malformed: number;
  /** The read stopped at its byte bound with older records left unread. */
  stopped?: boolean;
}

const newline = 0x0a;

function parseLine(line: Buffer, stats: NewestFirstStats): AuditRecord | undefined {
  const text = line.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as AuditRecord;
  } catch {
    // counted below
  }
  stats.malformed++;
  return undefined;
}

/**
 * Reads the records of `files` (oldest first, as `auditLogChain` lists them) newest
 * first: the last file from its end backwards in chunks of `chunkBytes`, then the one
 * before it. A reader that stops early (a page is full) reads only the end of the log.
 * It reads no chunk once `maxBytes` are read (`stats.stopped` then says older records
 * were left). Lines are split on `\n` bytes, so a chunk boundary inside a UTF-8
 * character is harmless.
 */
export async function* readAuditRecordsNewestFirst(
  files: readonly string[],
  stats: NewestFirstStats = { bytesRead: 0, malformed: 0 },
  maxBytes = Number.POSITIVE_INFINITY,
  chunkBytes = 65_536,
): AsyncGenerator<AuditRecord> {
  for (let f = files.length - 1; f >= 0; f--) {
    const handle = await open(files[f] as string, 'r');
    try {
      let position = (await handle.stat()).size;
      // The start of the last line seen, whose beginning lies in the chunk before.
      let rest = Buffer.alloc(0);
      while (position > 0) {
        if (stats.bytesRead >= maxBytes) {
          stats.stopped = true;
          return;
        }
        const length = Math.min(chunkBytes, position);
        position -= length;
        const chunk = Buffer.alloc(length);
        const { bytesRead } = await handle.read(chunk, 0, length, position);
        stats.bytesRead += bytesRead;
        const data = Buffer.concat([chunk.subarray(0, bytesRead), rest]);
        let end = data.length;
        let at = end === 0 ? -1 : data.lastIndexOf(newline, end - 1);
        while (at >= 0) {
          const record = parseLine(data.subarray(at + 1, end), stats);
          if (record) yield record;
          end = at;
          at = at === 0 ? -1 : data.lastIndexOf(newline, at - 1);
        }
        rest = data.subarray(0, end);
      }
      const first = parseLine(rest, stats);
      if (first) yield first;
    } finally {
      await handle.close();
    }
  }
}
