import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian packages the benchmark's comparison paths need: sshd + ssh for `ssh -L`, socat. */
const needed: Array<{ binary: string; pkg: string }> = [
  { binary: '/usr/sbin/sshd', pkg: 'openssh-server' },
  { binary: '/usr/bin/ssh', pkg: 'openssh-client' },
  { binary: '/usr/bin/socat', pkg: 'socat' },
];

/** Installs with apt-get whatever comparison tool is missing (runs `apt-get update` once first). */
export function ensureTools(): void {
  const missing = needed.filter(({ binary }) => !existsSync(binary)).map(({ pkg }) => pkg);
  if (missing.length === 0) return;
  console.log(`bench: installing ${missing.join(', ')} with apt-get`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  const install = spawnSync('apt-get', ['install', '-y', '-qq', ...missing], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (install.status !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed`);
}
