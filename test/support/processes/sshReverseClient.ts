import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprintOf, sshKeygen, type TestKey } from '../keys/sshKeys.js';

const sshBinary = '/usr/bin/ssh';

/** A throwaway key pair made by the real ssh-keygen. */
export type ClientKey = TestKey;

export { fingerprintOf };

/** `ssh-keygen -t <type>` without passphrase in a fresh temp dir. */
export function makeClientKey(comment: string, type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519'): ClientKey {
  return sshKeygen(type, comment);
}

/** Writes a known_hosts file that pins `publicKeyLine` for `[127.0.0.1]:port`. */
export function knownHostsFile(port: number, publicKeyLine: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'dbgrelay-knownhosts-')), 'known_hosts');
  writeFileSync(file, `[127.0.0.1]:${port} ${publicKeyLine}\n`);
  return file;
}

/** A running real OpenSSH client. */
export interface SshClientProcess {
  readonly process: ChildProcess;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name) when ssh exits. */
  readonly exited: Promise<number | string>;
  kill(): void;
}

/**
 * Runs the real `/usr/bin/ssh` against the relay's SSH server on 127.0.0.1 with
 * nothing from the user's setup (`-F /dev/null`, no agent, only `key`), verifying the
 * host key against `knownHosts` (StrictHostKeyChecking=yes). `args` come before the
 * destination (e.g. `-N -R web-1:0:127.0.0.1:5678`); `command` after it.
 */
export function runSsh(options: { port: number; key: ClientKey; knownHosts: string; args: string[]; command?: string[] }): SshClientProcess {
  const argv = [
    '-F',
    '/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'IdentityAgent=none',
    '-o',
    `UserKnownHostsFile=${options.knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'ExitOnForwardFailure=yes',
    '-o',
    'ConnectTimeout=10',
    '-i',
    options.key.privateFile,
    '-p',
    String(options.port),
    ...options.args,
    'root@127.0.0.1',
    ...(options.command ?? []),
  ];
  const child = spawn(sshBinary, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return {
    process: child,
    stderr: () => stderr,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
