import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeKey, startSshd } from '../../test/support/processes/sshd.js';
import { freePort, waitForPort } from './ports.js';

/** A running `sshd` on loopback plus an `ssh -L` forward through it. */
export interface SshTunnel {
  /** Local port that `ssh -L` listens on. */
  readonly localPort: number;
  /** How else to reach the same sshd (the relay's `ssh://` target path uses it). */
  readonly sshd: { readonly port: number; readonly user: string; readonly identityFile: string; readonly knownHostsFile: string };
  stop(): void;
}

/**
 * Starts a throwaway `sshd` on 127.0.0.1 (the end-to-end tests' own: config, host key
 * and authorized key in a temp dir) and `ssh -N -L` through it to
 * `127.0.0.1:targetPort`, with host key checking on. `route` puts something between
 * `ssh` and `sshd` (a delay proxy): given sshd's port, it returns the port `ssh` dials.
 */
export async function startSshTunnel(targetPort: number, route?: (sshdPort: number) => Promise<number>): Promise<SshTunnel> {
  const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-bench-ssh-'));
  const clientKey = makeKey(dir, 'client_key');
  const sshd = await startSshd(dir, 'bench', [clientKey]);
  const knownHostsFile = join(dir, 'known_hosts');
  const dialPort = route ? await route(sshd.port) : sshd.port;
  writeFileSync(knownHostsFile, [sshd.port, dialPort].map((port) => `[127.0.0.1]:${port} ${sshd.hostKey.publicLine}\n`).join(''));
  const localPort = await freePort();
  const user = execFileSync('id', ['-un']).toString().trim();
  const ssh: ChildProcess = spawn(
    'ssh',
    [
      '-N',
      '-p',
      String(dialPort),
      '-i',
      clientKey.file,
      '-o',
      'BatchMode=yes',
      '-o',
      'ExitOnForwardFailure=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `UserKnownHostsFile=${knownHostsFile}`,
      '-L',
      `127.0.0.1:${localPort}:127.0.0.1:${targetPort}`,
      `${user}@127.0.0.1`,
    ],
    { stdio: 'ignore' },
  );
  await waitForPort(localPort);
  return {
    localPort,
    sshd: { port: sshd.port, user, identityFile: clientKey.file, knownHostsFile },
    stop() {
      ssh.kill();
      sshd.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
