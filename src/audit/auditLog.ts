import { closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { RelayError } from '../common/relayError.js';
import type { AuditEvent, AuditSink } from './auditEvent.js';

/** Options of an {@link AuditLog} (config keys `audit.*`). */
export interface AuditLogOptions {
  readonly file: string;
  /** fsync each line before {@link AuditLog.record} returns (`audit.sync`). */
  readonly sync: boolean;
  /** Rotate when the file would grow past this (`audit.maxFileBytes`). */
  readonly maxFileBytes: number;
  /** Rotated files kept: `<file>.1` (newest) … `<file>.<maxFiles>` (`audit.maxFiles`). */
  readonly maxFiles: number;
  /** Called when a record cannot be written (the caller gets `AUDIT_UNAVAILABLE` too). */
  readonly onError?: (error: Error) => void;
}

/**
 * The audit log: one JSON object per line, appended to a file (mode 0600) with
 * synchronous writes, so that with `sync` a line is on disk before {@link record}
 * returns, i.e. before the request it describes is forwarded. Rotates by size
 * (`file` → `file.1` → … → `file.<maxFiles>`, the oldest dropped).
 */
export class AuditLog implements AuditSink {
  private fd: number | undefined;
  private size = 0;

  constructor(private readonly options: AuditLogOptions) {
    mkdirSync(dirname(options.file), { recursive: true, mode: 0o700 });
    this.open();
  }

  /** Appends `event` with the current time; throws `AUDIT_UNAVAILABLE` when it cannot. */
  record(event: AuditEvent): void {
    const line = Buffer.from(JSON.stringify({ time: new Date().toISOString(), ...event }) + '\n', 'utf8');
    try {
      if (this.fd === undefined) this.open();
      if (this.size > 0 && this.size + line.length > this.options.maxFileBytes) this.rotate();
      let written = 0;
      while (written < line.length) written += writeSync(this.fd!, line, written);
      this.size += line.length;
      if (this.options.sync) fsyncSync(this.fd!);
    } catch (error) {
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

  private rotate(): void {
    this.closeFd();
    const { file, maxFiles } = this.options;
    rmSync(`${file}.${maxFiles}`, { force: true });
    for (let n = maxFiles - 1; n >= 1; n--) if (existsSync(`${file}.${n}`)) renameSync(`${file}.${n}`, `${file}.${n + 1}`);
    renameSync(file, `${file}.1`);
    this.open();
  }
}
