import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
