import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { RelayError } from '../common/relayError.js';

/**
 * Longest relay secret (characters), as `auth.secret` and the hello line's `secret`
 * allow (docs/protocol.md): far above any generated secret, and it bounds what the
 * relay reads and compares.
 */
export const maxRelaySecretChars = 4096;

/** The relay secret and where it came from. The value is never logged. */
export interface RelaySecret {
  readonly secret: string;
  /** `env` (DBGRELAY_SECRET / config `auth.secret`) or `file`. */
  readonly source: 'config' | 'file';
  readonly file: string;
  /** True when this call created the file (the only time the secret may be shown). */
  readonly created: boolean;
  /** True when the file is readable by group or others. */
  readonly looseFileMode: boolean;
}

/** A fresh random secret: 32 bytes, base64url (43 characters). */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Resolves the relay secret: `configured` (config `auth.secret`, i.e. `DBGRELAY_SECRET`)
 * wins; else the content of `file` (surrounding whitespace trimmed); else a new random
 * secret is written to `file` with mode 0600. Errors never quote the file content.
 */
export function resolveRelaySecret(configured: string | undefined, file: string): RelaySecret {
  if (configured !== undefined) return { secret: configured, source: 'config', file, created: false, looseFileMode: false };
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new RelayError('CONFIG_INVALID', `auth.secretFile: cannot read ${file} (${code ?? 'error'})`);
  }
  if (text === undefined) {
    const secret = generateSecret();
    try {
      writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new RelayError('CONFIG_INVALID', `auth.secretFile: cannot create ${file} (${code ?? 'error'})`);
    }
    return { secret, source: 'file', file, created: true, looseFileMode: false };
  }
  const secret = text.trim();
  if (secret === '') throw new RelayError('CONFIG_INVALID', `auth.secretFile: ${file} is empty`);
  if (secret.length > maxRelaySecretChars) throw new RelayError('CONFIG_INVALID', `auth.secretFile: ${file} holds more than ${maxRelaySecretChars} characters`);
  const looseFileMode = (statSync(file).mode & 0o077) !== 0;
  return { secret, source: 'file', file, created: false, looseFileMode };
}
