import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import ssh2 from 'ssh2';
import { RelayError } from '../common/relayError.js';
import { generateEd25519KeyPair } from './ed25519KeyPair.js';
import { sshFingerprint } from '../ssh/sshKeyFingerprint.js';

/** The SSH server's host key. */
export interface HostKey {
  /** The private key as read (OpenSSH or PEM), for ssh2's `hostKeys`. */
  readonly privateKey: string;
  readonly keyType: string;
  /** `SHA256:…`, what `ssh` shows and known_hosts pins. */
  readonly fingerprint: string;
  /** The public key line (`ssh-ed25519 AAAA…`), for a known_hosts entry. */
  readonly publicKeyLine: string;
  /** True when this call generated the key. */
  readonly created: boolean;
  /** True when the file is readable by group or others. */
  readonly looseFileMode: boolean;
}

type ParsedKey = Exclude<ReturnType<typeof ssh2.utils.parseKey>, Error | unknown[]>;

function errnoCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'error';
}

/** The private key in `text`, or why there is none. */
function parsePrivateKey(text: string): ParsedKey | string {
  const parsed = ssh2.utils.parseKey(text);
  const first: unknown = Array.isArray(parsed) ? parsed[0] : parsed;
  if (first instanceof Error) return first.message;
  if (first === undefined) return 'no key found';
  const key = first as ParsedKey;
  return key.isPrivateKey() ? key : 'it holds a public key, not a private key';
}

/** errno codes of a file system that has no hard links. */
const noHardLinks = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** Writes `text` to the new file `path` with `mode` and flushes it to the disk before closing it. */
function writeSynced(path: string, text: string, mode: number): void {
  const fd = openSync(path, 'wx', mode);
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `text` to `file` with `mode` all at once: a temp file beside it, flushed to
 * the disk, linked to `file` (so an existing `file` is never overwritten; `EEXIST`
 * then) and removed, also when writing failed. On a file system without hard links
 * the temp file is renamed instead.
 */
function writeNewFileAtomically(file: string, text: string, mode: number): void {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeSynced(temp, text, mode);
    chmodSync(temp, mode);
    try {
      linkSync(temp, file);
    } catch (error) {
      if (!noHardLinks.has(errnoCode(error))) throw error;
      if (existsSync(file)) throw Object.assign(new Error(`${file} exists`), { code: 'EEXIST' });
      renameSync(temp, file);
    }
  } finally {
    rmSync(temp, { force: true });
  }
}

/**
 * Generates an Ed25519 host key and writes it to `file` (0600) and `<file>.pub`
 * (0644). Returns the private key text, or undefined when another process created
 * `file` meanwhile (its key is then the one to use).
 */
function createHostKeyFile(file: string, key: string): string | undefined {
  const pair = generateEd25519KeyPair('dbgrelay ssh host key');
  // Checked before anything is written: a key that does not parse must never reach the disk.
  const problem = parsePrivateKey(pair.private);
  if (typeof problem === 'string') throw new RelayError('INTERNAL', `the generated SSH host key does not parse (${problem})`);
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    try {
      writeNewFileAtomically(file, pair.private, 0o600);
    } catch (error) {
      if (errnoCode(error) === 'EEXIST') return undefined;
      throw error;
    }
    const pubTemp = `${file}.pub.${randomBytes(6).toString('hex')}.tmp`;
    try {
      writeSynced(pubTemp, `${pair.public}\n`, 0o644);
      renameSync(pubTemp, `${file}.pub`);
    } finally {
      rmSync(pubTemp, { force: true });
    }
  } catch (writeError) {
    throw new RelayError('CONFIG_INVALID', `${key}: cannot create ${file} (${errnoCode(writeError)})`);
  }
  return pair.private;
}

/**
 * Reads the host key in `file`, generating an Ed25519 key (OpenSSH format, mode
 * 0600, with the public key beside it in `<file>.pub`, 0644) when the file does not
 * exist, so that the host key, and with it what clients pin, survives restarts. The
 * file appears only once complete, holding a key that parses.
 * Throws `CONFIG_INVALID` naming `key` when the file cannot be read or written, or
 * does not hold an unencrypted private key (saying why, and that deleting the file
 * has a new key made).
 */
export function ensureHostKey(file: string, key = 'sshServer.hostKeyFile'): HostKey {
  let created = false;
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw new RelayError('CONFIG_INVALID', `${key}: cannot read ${file} (${errnoCode(error)})`);
    text = createHostKeyFile(file, key);
    created = text !== undefined;
  }
  if (text === undefined) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new RelayError('CONFIG_INVALID', `${key}: cannot read ${file} (${errnoCode(error)})`);
    }
  }
  const privateKey = parsePrivateKey(text);
  if (typeof privateKey === 'string') {
    throw new RelayError(
      'CONFIG_INVALID',
      `${key}: ${file} is not a usable SSH host key (${privateKey}); it must be an unencrypted private key (OpenSSH or PEM). ` +
        `Delete it (and ${file}.pub) to have a new Ed25519 key made at the next start (clients that pinned the old key must then pin the new one), ` +
        `or point ${key} at a valid key`,
    );
  }
  const blob = privateKey.getPublicSSH();
  const looseFileMode = (statSync(file).mode & 0o077) !== 0;
  return {
    privateKey: text,
    keyType: privateKey.type,
    fingerprint: sshFingerprint(blob),
    publicKeyLine: `${privateKey.type} ${blob.toString('base64')}`,
    created,
    looseFileMode,
  };
}
