import { closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { isRelayError, RelayError } from '../common/relayError.js';
import { isReservedRecord, type AuditEvent, type AuditSink } from './auditEvent.js';
import { auditTimeBytes, boundAuditEvent } from './auditRecordBounds.js';

/** Bound on one line when the caller names none (embedding, tests): 1 MiB, the most `audit.maxRecordBytes` allows. */
export const defaultMaxAuditLineBytes = 1024 * 1024;

/** Options of an {@link AuditLog} (config keys `audit.*`). */
export interface AuditLogOptions {
  readonly file: string;
  /** fsync each line before {@link AuditLog.record} returns (`audit.sync`). */
  readonly sync: boolean;
  /** Rotate when the file would grow past this (`audit.maxFileBytes`). */
  readonly maxFileBytes: number;
  /** Rotated files kept: `<file>.1` (newest) … `<file>.<maxFiles>` (`audit.maxFiles`). */
  readonly maxFiles: number;
  /**
   * Rotation never deletes `<file>.<maxFiles>` while its newest record (the file's
   * modification time) is younger than this (`audit.minRetentionMs`); 0 (the default
   * here) lets it.
   */
  readonly minRetentionMs?: number;
  /**
   * While full, records that must not be refused ({@link isReservedRecord}) may
   * still grow the file this far past `maxFileBytes` (`audit.reserveBytes`; default 0).
   */
  readonly reserveBytes?: number;
  /** Bound on one line, `time` included (`audit.maxRecordBytes`); a longer record is cut. Default 1 MiB. */
  readonly maxRecordBytes?: number;
  /** Called when a record cannot be written (the caller gets `AUDIT_UNAVAILABLE` too). */
  readonly onError?: (error: Error) => void;
  /** Called when a record was cut to `maxRecordBytes`. */
  readonly onTruncated?: () => void;
  /** Called when the log becomes full (`true`: a record was refused with `AUDIT_FULL`) and when it is not any more. */
  readonly onFull?: (full: boolean) => void;
  /** The clock (tests). */
  readonly now?: () => number;
}

/**
 * The audit log: one JSON object per line, appended to a file (mode 0600) with
 * synchronous writes, so that with `sync` a line is on disk before {@link record}
 * returns, i.e. before the request it describes is forwarded. Rotates by size
 * (`file` → `file.1` → … → `file.<maxFiles>`, the oldest dropped), but never drops a
 * file younger than `minRetentionMs`: the log is then full, and a record is refused
 * with `AUDIT_FULL` (so is the request it describes) until the oldest file ages, is
 * moved away, or the limits are raised. A line is at most `maxRecordBytes`.
 */
export class AuditLog implements AuditSink {
  private fd: number | undefined;
  private size = 0;
  /** The last record was refused because rotation would drop young records. */
  private full = false;

  constructor(private readonly options: AuditLogOptions) {
    mkdirSync(dirname(options.file), { recursive: true, mode: 0o700 });
    this.open();
  }

  /**
   * Appends `event` with the current time (cut to `maxRecordBytes`); throws
   * `AUDIT_FULL` when it would need to drop records younger than `minRetentionMs`,
   * `AUDIT_UNAVAILABLE` when it cannot write.
   */
  record(event: AuditEvent): void {
    const line = this.lineOf(event);
    try {
      if (this.fd === undefined) this.open();
      if (this.size > 0 && this.size + line.length > this.options.maxFileBytes && !this.rotateIfAllowed()) {
        if (!isReservedRecord(event) || this.size + line.length > this.options.maxFileBytes + (this.options.reserveBytes ?? 0)) throw this.fullError();
      }
      let written = 0;
      while (written < line.length) written += writeSync(this.fd!, line, written);
      this.size += line.length;
      if (this.options.sync) fsyncSync(this.fd!);
    } catch (error) {
      if (isRelayError(error, 'AUDIT_FULL')) throw error;
      this.closeFd();
      this.options.onError?.(error as Error);
      throw new RelayError('AUDIT_UNAVAILABLE', `cannot write the audit log ${this.options.file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }

  /** Closes the file. */
  close(): void {
    this.closeFd();
  }

  private open(): void {
    this.fd = openSync(this.options.file, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  private closeFd(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // already unusable
    }
    this.fd = undefined;
  }

  private lineOf(event: AuditEvent): Buffer {
    const time = new Date(this.now()).toISOString();
    const max = this.options.maxRecordBytes ?? defaultMaxAuditLineBytes;
    const line = Buffer.from(JSON.stringify({ time, ...event }) + '\n', 'utf8');
    if (line.length <= max + 1) return line;
    this.options.onTruncated?.();
    return Buffer.from(JSON.stringify({ time, ...boundAuditEvent(event, max - auditTimeBytes).event }) + '\n', 'utf8');
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** Rotates unless that would drop a file younger than `minRetentionMs`; false when full. */
  private rotateIfAllowed(): boolean {
    const { file, maxFiles, minRetentionMs = 0 } = this.options;
    const oldest = `${file}.${maxFiles}`;
    // The file's modification time is the time of its newest record (rename keeps it).
    const mtime = minRetentionMs > 0 && existsSync(oldest) ? statSync(oldest).mtimeMs : undefined;
    if (mtime !== undefined && this.now() - mtime < minRetentionMs) {
      if (!this.full) this.options.onFull?.(true);
      this.full = true;
      return false;
    }
    this.closeFd();
    rmSync(oldest, { force: true });
    for (let n = maxFiles - 1; n >= 1; n--) if (existsSync(`${file}.${n}`)) renameSync(`${file}.${n}`, `${file}.${n + 1}`);
    renameSync(file, `${file}.1`);
    this.open();
    if (this.full) {
      this.full = false;
      this.options.onFull?.(false);
    }
    return true;
  }

  private fullError(): RelayError {
    const hours = Math.round(((this.options.minRetentionMs ?? 0) / 3_600_000) * 10) / 10;
    return new RelayError(
      'AUDIT_FULL',
      `the audit log is full: ${this.options.file}.${this.options.maxFiles} holds records younger than audit.minRetentionMs (${hours} h), which rotation would delete; move the rotated files away (after shipping them) or raise audit.maxFiles or audit.maxFileBytes`,
    );
  }
}
