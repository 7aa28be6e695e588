import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { RelayError } from '../common/relayError.js';

/**
 * The bearer token `/metrics` requires (config `metrics.bearerTokenFile`), kept only
 * as its SHA-256 digest. Prometheus sends it with `authorization.credentials_file`.
 */
export class ScrapeToken {
  private constructor(private readonly digest: Buffer) {}

  /**
   * Reads the token from `file` (surrounding whitespace, e.g. the final newline, is
   * ignored). Throws `CONFIG_INVALID` naming the key, never the content, when the file
   * is unreadable or empty. `looseFileMode` tells whether group or others may read it.
   */
  static fromFile(file: string): { token: ScrapeToken; looseFileMode: boolean } {
    let text: string;
    let mode: number;
    try {
      text = readFileSync(file, 'utf8');
      mode = statSync(file).mode;
    } catch (error) {
      throw new RelayError('CONFIG_INVALID', `metrics.bearerTokenFile: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    const token = text.trim();
    if (token.length === 0) throw new RelayError('CONFIG_INVALID', `metrics.bearerTokenFile: ${file} is empty`);
    if (/\s/.test(token)) throw new RelayError('CONFIG_INVALID', `metrics.bearerTokenFile: the token in ${file} contains whitespace`);
    return { token: new ScrapeToken(digestOf(token)), looseFileMode: (mode & 0o077) !== 0 };
  }

  /**
   * True when the `Authorization` header value is `Bearer <this token>` (scheme
   * case-insensitive, RFC 6750 §2.1). The tokens are compared as SHA-256 digests with
   * `timingSafeEqual`, so the time taken reveals neither where they differ nor the length.
   */
  accepts(authorization: string | undefined): boolean {
    const match = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
    const presented = digestOf(match?.[1] ?? '');
    return timingSafeEqual(presented, this.digest) && match !== null;
  }
}

function digestOf(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
