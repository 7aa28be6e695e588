#!/usr/bin/env node
// Installs the Debian packages the end-to-end tests start for real (sshd and ssh for
// the SSH tests, nginx and haproxy as TLS front ends, promtool for the deploy
// artifacts, socat and nginx's stream module for the benchmarks, g++ for the fuzzer's shim, chromium for the web console's browser test, zsh and fish for the completion scripts). Runs `apt-get update` once, and only when a
// binary is missing. Services are never started by the install: a policy-rc.d that
// refuses every start is in place while apt-get runs (the tests start what they
// need themselves, bound to loopback). None is left enabled at boot either: the boot
// links that appear during the install are recorded and disabled, and on every later
// run those links, and only those, are disabled again (test/bootLinks.mjs).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bootLinks, disableOwnBootLinks, ownedBootLinks } from './bootLinks.mjs';

/** Binary the tests run, and the Debian package that provides it. */
export const systemTools = [
  { binary: '/usr/sbin/sshd', pkg: 'openssh-server' },
  { binary: '/usr/bin/ssh', pkg: 'openssh-client' },
  { binary: '/usr/bin/socat', pkg: 'socat' },
  { binary: '/usr/sbin/nginx', pkg: 'nginx' },
  { binary: '/usr/sbin/haproxy', pkg: 'haproxy' },
  // nginx `stream` with TLS: the anchor of the fleet-size benchmark (npm run bench:scale).
  { binary: '/usr/lib/nginx/modules/ngx_stream_module.so', pkg: 'libnginx-mod-stream' },
  { binary: '/usr/bin/promtool', pkg: 'prometheus' },
  { binary: '/usr/bin/systemd-analyze', pkg: 'systemd' },
  // Starts the agent in a running Python process (python -m dbgrelay --pid, before Python 3.14).
  { binary: '/usr/bin/gdb', pkg: 'gdb' },
  // The broker of the Celery worker recipe's test (started by the test on a loopback port).
  { binary: '/usr/bin/redis-server', pkg: 'redis-server' },
  // Builds the Jazzer.js compatibility shim of the fuzzing run (fuzz/jazzerCompat.mjs).
  { binary: '/usr/bin/g++', pkg: 'g++' },
  // The browser the web console's test drives (playwright-core, headless).
  { binary: '/usr/bin/chromium', pkg: 'chromium' },
  // The shells whose completion scripts `dbgrelay completion zsh|fish` prints are loaded for real.
  { binary: '/usr/bin/zsh', pkg: 'zsh' },
  { binary: '/usr/bin/fish', pkg: 'fish' },
];

/** Installs the packages of the tools that are missing, with no service started meanwhile. */
function installMissing() {
  const missing = systemTools.filter(({ binary }) => !existsSync(binary)).map(({ pkg }) => pkg);
  if (missing.length > 0) {
    console.log(`setup: installing ${missing.join(', ')} with apt-get`);
    const policy = '/usr/sbin/policy-rc.d';
    const ownPolicy = !existsSync(policy);
    if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    // Ctrl+C or a kill while apt-get runs: apt-get gets it too and ends, the `finally`
    // below removes the policy (it would refuse every service start on the machine),
    // and the setup exits then, instead of at once.
    const interrupted = (signal) => process.once(signal, () => process.exit(128 + (signal === 'SIGINT' ? 2 : 15)));
    interrupted('SIGINT');
    interrupted('SIGTERM');
    try {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
      const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
        stdio: 'inherit',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
      if (install.status !== 0) {
        console.error(`setup: apt-get install ${missing.join(' ')} failed`);
        process.exitCode = 1;
      }
    } finally {
      if (ownPolicy) rmSync(policy, { force: true });
    }
  }
}

/**
 * Disables at boot what the install enabled (test/bootLinks.mjs): the links that appeared
 * since `before`, and those of earlier runs that a package upgrade enabled again. Links
 * that were there before the setup installed anything are never touched.
 */
function leaveOwnLinksDisabledAtBoot(before) {
  if (process.getuid?.() !== 0) {
    const enabled = new Set(bootLinks('/'));
    const pending = ownedBootLinks('/').filter((key) => enabled.has(key));
    if (pending.length > 0) console.warn(`setup: boot links the setup created are enabled again (${pending.join(', ')}); run node test/setupSystem.mjs as root to disable them`);
    return;
  }
  const { disabled } = disableOwnBootLinks('/', before);
  if (disabled.length > 0) console.log(`setup: disabled at boot (the tests start their own): ${disabled.join(', ')}`);
}

// Imported by tests for the list above; run as a script, it sets the machine up.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const before = bootLinks('/');
  installMissing();
  leaveOwnLinksDisabledAtBoot(before);
}
