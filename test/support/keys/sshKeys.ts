import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { generateEd25519KeyPair } from '../../../src/sshServer/ed25519KeyPair.js';

/** A throwaway key pair made by the real ssh-keygen. */
export interface TestKey {
  readonly privateFile: string;
  /** The `.pub` line: `type base64 comment`. */
  readonly publicLine: string;
  /** `SHA256:…` as `ssh-keygen -lf` prints it. */
  readonly fingerprint: string;
}

/** Runs `ssh-keygen -t type` in a fresh temp dir (no passphrase). */
export function sshKeygen(type: 'ed25519' | 'ecdsa' | 'rsa', comment = `test-${type}`): TestKey {
  const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-sshkey-'));
  const privateFile = join(dir, `id_${type}`);
  const bits = type === 'rsa' ? ['-b', '2048'] : [];
  execFileSync('ssh-keygen', ['-q', '-t', type, ...bits, '-N', '', '-C', comment, '-f', privateFile], { stdio: 'ignore' });
  return { privateFile, publicLine: readFileSync(`${privateFile}.pub`, 'utf8').trim(), fingerprint: fingerprintOf(`${privateFile}.pub`) };
}

/** The `SHA256:` fingerprint ssh-keygen computes for a key file. */
export function fingerprintOf(file: string): string {
  const output = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', file], { encoding: 'utf8' });
  const match = /(SHA256:[A-Za-z0-9+/]+)/.exec(output);
  if (!match) throw new Error(`no fingerprint in ssh-keygen output: ${output}`);
  return match[1]!;
}

/** Options of {@link testKeyPair}, as ssh2's `utils.generateKeyPairSync` takes them. */
export interface TestKeyPairOptions {
  readonly passphrase?: string;
  readonly cipher?: string;
  readonly rounds?: number;
}

/**
 * An Ed25519 key pair in OpenSSH format that ssh2 always parses. Unencrypted keys
 * come from the relay's own generator; encrypted ones from ssh2's, which now and then
 * (about 1 in 256) writes a public key ssh2 cannot read back: such a pair is checked
 * with `utils.parseKey` and made again.
 */
export function testKeyPair(options: TestKeyPairOptions = {}): { private: string; public: string } {
  if (options.passphrase === undefined) return generateEd25519KeyPair();
  for (let attempt = 0; attempt < 50; attempt++) {
    const pair = utils.generateKeyPairSync('ed25519', { passphrase: options.passphrase, cipher: options.cipher ?? 'aes256-ctr', rounds: options.rounds ?? 16 });
    const privateKey = utils.parseKey(pair.private, options.passphrase);
    if (!(privateKey instanceof Error) && !(utils.parseKey(pair.public) instanceof Error)) return pair;
  }
  throw new Error('ssh2 made no parsable Ed25519 key in 50 attempts');
}
