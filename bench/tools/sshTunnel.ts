import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
 * Starts a throwaway `sshd` on 127.0.0.1 (own config, host key and authorized key)
 * and `ssh -N -L` through it to `127.0.0.1:targetPort`, with host key checking on.
 */
export async function startSshTunnel(targetPort: number): Promise<SshTunnel> {
  const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-bench-ssh-'));
  mkdirSync('/run/sshd', { recursive: true });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')), { mode: 0o600 });
  const sshdPort = await freePort();
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${sshdPort}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      'AllowTcpForwarding yes',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${sshdPort} ${readFileSync(join(dir, 'host_key.pub'), 'utf8')}`);
  const sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: 'ignore' });
  await waitForPort(sshdPort);
  const localPort = await freePort();
  const user = execFileSync('id', ['-un']).toString().trim();
  const ssh: ChildProcess = spawn(
    'ssh',
    [
      '-N', '-p', String(sshdPort), '-i', join(dir, 'client_key'),
      '-o', 'BatchMode=yes', '-o', 'ExitOnForwardFailure=yes', '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
      '-L', `127.0.0.1:${localPort}:127.0.0.1:${targetPort}`,
      `${user}@127.0.0.1`,
    ],
    { stdio: 'ignore' },
  );
  await waitForPort(localPort);
  return {
    localPort,
    sshd: { port: sshdPort, user, identityFile: join(dir, 'client_key'), knownHostsFile: join(dir, 'known_hosts') },
    stop() {
      ssh.kill();
      sshd.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
