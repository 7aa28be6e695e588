import { readFileSync, statSync } from 'node:fs';
import { RelayError } from '../common/relayError.js';
import type { Logger } from '../log/logger.js';
import { parseAuthorizedKeys, type AuthorizedKeys } from './authorizedKeys.js';

/** Bound on the file: a key line is well under 16 KiB; thousands of keys fit. */
const maxFileBytes = 4 * 1024 * 1024;

const noKeys: AuthorizedKeys = { keys: [], problems: [], find: () => undefined };

/**
 * `sshServer.authorizedKeysFile`, read at start and read again whenever it changed
 * (size, mtime or inode), as sshd reads `authorized_keys` on every login: adding or
 * removing a key needs no restart (connections already open keep their forwards).
 * Lines that cannot be used are logged (line number and reason, never the line).
 */
export class AuthorizedKeysFile {
  private keys: AuthorizedKeys = noKeys;
  private stamp = '';

  /** Throws `CONFIG_INVALID` when the file cannot be read at start. */
  constructor(
    readonly file: string,
    private readonly logger: Logger,
  ) {
    const loaded = this.reload();
    if (typeof loaded === 'string') throw new RelayError('CONFIG_INVALID', `sshServer.authorizedKeysFile: ${loaded}`);
  }

  /** The keys as the file holds them now; no keys at all while the file is unreadable (fail closed). */
  current(): AuthorizedKeys {
    const loaded = this.reload();
    if (typeof loaded === 'string') {
      this.logger.error({ file: this.file, reason: loaded }, 'authorized keys file unreadable; refusing every key');
      this.keys = noKeys;
      this.stamp = '';
    }
    return this.keys;
  }

  /** Re-reads the file when it changed; returns a message when it cannot be read. */
  private reload(): string | undefined {
    let stamp: string;
    try {
      const stats = statSync(this.file);
      if (!stats.isFile()) return `${this.file} is not a file`;
      if (stats.size > maxFileBytes) return `${this.file} is larger than ${maxFileBytes} bytes`;
      stamp = `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
      if (stamp === this.stamp) return undefined;
      if ((stats.mode & 0o022) !== 0) this.logger.warn({ file: this.file }, 'authorized keys file is writable by group or others');
    } catch (error) {
      return `cannot read ${this.file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
    }
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      return `cannot read ${this.file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
    }
    const keys = parseAuthorizedKeys(text);
    for (const problem of keys.problems) {
      this.logger.warn({ file: this.file, line: problem.line, reason: problem.message }, 'authorized keys line ignored');
    }
    this.logger.info({ file: this.file, keys: keys.keys.length, ignoredLines: keys.problems.length }, 'authorized keys loaded');
    this.keys = keys;
    this.stamp = stamp;
    return undefined;
  }
}
