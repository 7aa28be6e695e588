import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import ssh2 from 'ssh2';
import { RelayError } from '../common/relayError.js';
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

function errnoCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'error';
}

/**
 * Reads the host key in `file`, generating an Ed25519 key (OpenSSH format, mode
 * 0600, with the public key beside it in `<file>.pub`, 0644) when the file does not
 * exist, so that the host key, and with it what clients pin, survives restarts.
 * Throws `CONFIG_INVALID` naming `key` when the file cannot be read or written, is
 * not a private key, or is encrypted.
 */
export function ensureHostKey(file: string, key = 'sshServer.hostKeyFile'): HostKey {
  let created = false;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw new RelayError('CONFIG_INVALID', `${key}: cannot read ${file} (${errnoCode(error)})`);
    const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'dbgrelay ssh host key' });
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      // 'wx': never overwrite a key another process created meanwhile.
      writeFileSync(file, pair.private, { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
      writeFileSync(`${file}.pub`, `${pair.public}\n`, { mode: 0o644 });
    } catch (writeError) {
      throw new RelayError('CONFIG_INVALID', `${key}: cannot create ${file} (${errnoCode(writeError)})`);
    }
    text = pair.private;
    created = true;
  }
  const parsed = ssh2.utils.parseKey(text);
  const privateKey = Array.isArray(parsed) ? parsed[0] : parsed;
  if (privateKey instanceof Error || privateKey === undefined || !privateKey.isPrivateKey()) {
    throw new RelayError('CONFIG_INVALID', `${key}: ${file} is not an unencrypted SSH private key`);
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
