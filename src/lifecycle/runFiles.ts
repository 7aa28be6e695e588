import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `<dataDir>/dbgrelay.pid`: the pid of the running `dbgrelay serve` (docs/operations.md "Reload"). */
export function pidFile(dataDir: string): string {
  return join(dataDir, 'dbgrelay.pid');
}

/** `<dataDir>/reload-status.json`: the outcome of the relay's last reload. */
export function reloadStatusFile(dataDir: string): string {
  return join(dataDir, 'reload-status.json');
}

/** The outcome of one reload, as `dbgrelay serve` records it for `dbgrelay reload`. */
export interface ReloadStatus {
  /** The relay process. */
  readonly pid: number;
  /** Reloads of this process so far, this one included (tells a new outcome from an old one). */
  readonly count: number;
  readonly at: string;
  readonly outcome: 'applied' | 'refused';
  readonly changed?: readonly string[];
  readonly needsRestart?: readonly string[];
  readonly secretChanged?: boolean;
  readonly certificateChanged?: boolean;
  readonly targets?: { readonly added: readonly string[]; readonly removed: readonly string[]; readonly replaced: readonly string[] };
  /** Why a refused reload was refused (never a secret: config errors name keys, not values). */
  readonly error?: { readonly code: string; readonly message: string };
}

/** Writes `file` atomically (temporary file, then rename), mode 0600. */
function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  renameSync(temporary, file);
}

/** Writes this process's pid file; returns the function that removes it (if it is still ours). */
export function writePidFile(dataDir: string, pid = process.pid): () => void {
  const file = pidFile(dataDir);
  writeAtomically(file, `${pid}\n`);
  return () => {
    if (readPidFile(dataDir) === pid) rmSync(file, { force: true });
  };
}

/** The pid in `<dataDir>/dbgrelay.pid`, undefined when there is none or it is not a pid. */
export function readPidFile(dataDir: string): number | undefined {
  try {
    const text = readFileSync(pidFile(dataDir), 'utf8').trim();
    return /^[1-9]\d{0,9}$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/** Records the outcome of a reload for `dbgrelay reload`. */
export function writeReloadStatus(dataDir: string, status: ReloadStatus): void {
  writeAtomically(reloadStatusFile(dataDir), JSON.stringify(status) + '\n');
}

/** The last recorded reload outcome, undefined when there is none (or it is unreadable). */
export function readReloadStatus(dataDir: string): ReloadStatus | undefined {
  try {
    const parsed = JSON.parse(readFileSync(reloadStatusFile(dataDir), 'utf8')) as ReloadStatus;
    return typeof parsed.pid === 'number' && typeof parsed.count === 'number' ? parsed : undefined;
  } catch {
    return undefined;
  }
}
