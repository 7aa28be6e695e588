// The services that Debian packages installed for the tests would start at boot, and
// turning that off. The packages' maintainer scripts enable their services on install
// (systemd wants-links under /etc/systemd/system, SysV S-links under /etc/rc?.d); the
// tests start what they need themselves, so test/setupSystem.mjs disables them again.
//
// A service counts as the packages' when it is shipped by any installed package built
// from the same Debian source (nginx.service is in nginx-common, not nginx). The
// `systemd` source is left out: it is the init system, and its units (getty, journald,
// timesyncd) are the machine's own. A unit running under systemd right now is left as it
// is: the setup never starts one, so someone else uses it (an sshd one logs in through).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';

const systemdUnitDirs = ['/lib/systemd/system', '/usr/lib/systemd/system'];
const systemdConfigDir = '/etc/systemd/system';
const initScriptDir = '/etc/init.d';
const runlevelDirs = ['rcS.d', 'rc0.d', 'rc1.d', 'rc2.d', 'rc3.d', 'rc4.d', 'rc5.d', 'rc6.d'].map((dir) => join('/etc', dir));
/** Unit kinds that start something when enabled; templates (`name@.service`) need an instance and are never enabled as such. */
const startingUnit = /^[^@]+\.(service|socket|timer|path)$/;

/**
 * Boot services of `packages` (Debian package names; the ones not installed are
 * skipped): `units` are systemd unit names, `initScripts` SysV script names.
 */
export function bootServicesOf(packages) {
  const installed = execFileSync('dpkg-query', ['-W', '-f=${Package}\t${source:Package}\t${db:Status-Abbrev}\n'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split('\t'))
    .filter(([, , status]) => status?.startsWith('ii'));
  const sourceOf = new Map(installed.map(([name, source]) => [name, source]));
  const sources = new Set(packages.map((name) => sourceOf.get(name)).filter((source) => source !== undefined && source !== 'systemd'));
  const related = installed.filter(([, source]) => sources.has(source)).map(([name]) => name);
  if (related.length === 0) return { units: [], initScripts: [] };
  const files = execFileSync('dpkg', ['-L', ...related], { encoding: 'utf8' }).split('\n');
  const units = files.filter((file) => systemdUnitDirs.some((dir) => file.startsWith(`${dir}/`)) && startingUnit.test(basename(file))).map((file) => basename(file));
  const initScripts = files.filter((file) => file.startsWith(`${initScriptDir}/`) && existsSync(file)).map((file) => basename(file));
  return { units: [...new Set(units)].sort(), initScripts: [...new Set(initScripts)].sort() };
}

/** Entries of `dir` (none when it does not exist). */
function entries(dir) {
  return existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : [];
}

/**
 * The links that start `services` at boot: systemd wants/requires links and aliases of
 * each unit, SysV start links (`S??name`) of each script. Empty when none is enabled.
 */
export function bootLinksOf({ units, initScripts }) {
  const links = [];
  for (const entry of entries(systemdConfigDir)) {
    const path = join(systemdConfigDir, entry.name);
    if (entry.isDirectory() && /\.(wants|requires)$/.test(entry.name)) {
      for (const link of entries(path)) if (units.includes(link.name)) links.push({ service: link.name, path: join(path, link.name) });
    } else if (entry.isSymbolicLink()) {
      const target = basename(readlinkSync(path));
      if (units.includes(target)) links.push({ service: target, path });
    }
  }
  for (const dir of runlevelDirs) {
    for (const link of entries(dir)) {
      const script = /^S\d\d(.+)$/.exec(link.name)?.[1];
      if (script !== undefined && initScripts.includes(script)) links.push({ service: script, path: join(dir, link.name) });
    }
  }
  return links;
}

/** Whether `unit` runs under a running systemd now (never the case without systemd as init). */
export function runningNow(unit) {
  if (!existsSync('/run/systemd/system')) return false;
  return spawnSync('systemctl', ['is-active', '--quiet', unit.includes('.') ? unit : `${unit}.service`]).status === 0;
}

/**
 * Disables at boot every one of `services` that is enabled and not running now:
 * `update-rc.d NAME disable` for a SysV script (start links become stop links, and it
 * disables the systemd unit of the same name too), `systemctl --root=/ disable` for a
 * unit (works without a running systemd). Package upgrades keep a disabled service
 * disabled. Returns the services it disabled and the ones it left because they run.
 */
export function disableAtBoot(services) {
  const enabled = [...new Set(bootLinksOf(services).map((link) => link.service))];
  const left = enabled.filter((service) => runningNow(service));
  const disabled = enabled.filter((service) => !left.includes(service));
  for (const service of disabled) {
    if (services.initScripts.includes(service)) execFileSync('update-rc.d', [service, 'disable'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (services.units.includes(service)) execFileSync('systemctl', ['--root=/', '--quiet', 'disable', service], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return { disabled, left };
}
