import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bootLinksOf, bootServicesOf, runningNow } from '../bootServices.mjs';
import { systemTools } from '../setupSystem.mjs';

/**
 * test/setupSystem.mjs on this machine (npm test runs it first): the Debian packages the
 * tests need are installed, and none of their services is left enabled at boot (no
 * systemd wants-link or alias, no SysV start link), except one running now, which the
 * setup leaves to whoever started it.
 */
const services = bootServicesOf(systemTools.map(({ pkg }) => pkg));

describe('test/setupSystem.mjs', () => {
  it('installed every tool', () => {
    expect(systemTools.filter(({ binary }) => !existsSync(binary)).map(({ pkg }) => pkg)).toEqual([]);
  });

  it('finds the services of the daemons it installs, including those shipped by a sibling package (nginx-common)', () => {
    expect(services.units).toEqual(expect.arrayContaining(['ssh.service', 'nginx.service', 'haproxy.service', 'redis-server.service', 'prometheus.service']));
    // systemd's own units (getty, timesyncd) are the machine's, never the test setup's
    expect(services.units.filter((unit) => /^(getty|systemd-)/.test(unit))).toEqual([]);
  });

  it('leaves no service of the test packages enabled at boot', () => {
    const links = bootLinksOf(services).filter((link) => !runningNow(link.service));
    expect(links.map((link) => link.path)).toEqual([]);
  });

  it('disables them again on the next run after something enabled one', () => {
    if (process.getuid?.() !== 0) throw new Error('needs root, as npm test on a fresh machine (apt-get) does');
    execFileSync('systemctl', ['--root=/', '--quiet', 'enable', 'haproxy.service'], { stdio: 'ignore' });
    execFileSync('update-rc.d', ['haproxy', 'enable'], { stdio: 'ignore' });
    expect(bootLinksOf(services).map((link) => link.service)).toEqual(expect.arrayContaining(['haproxy.service', 'haproxy']));
    const output = execFileSync(process.execPath, ['test/setupSystem.mjs'], { encoding: 'utf8' });
    expect(output).toContain('setup: disabled at boot');
    expect(bootLinksOf(services).filter((link) => !runningNow(link.service))).toEqual([]);
  });
});
