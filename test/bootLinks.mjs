// The boot links the test setup's own package installs create, and turning them off.
// Debian packages' maintainer scripts enable their services on install: systemd
// wants/requires links under etc/systemd/system, SysV start links (S??name) under
// etc/rc?.d. The tests start what they need themselves, so test/setupSystem.mjs disables
// the links that appeared while it installed packages, and only those: a service that
// was enabled before (a developer's own nginx, the sshd one logs in through) is never
// touched. The links it created are kept in a state file (under var/lib, outside the
// clone, so every clone and re-run sees it): a package upgrade that enables one again is
// disabled again on the next run. Every function takes the root directory it works on
// ('/' for the machine), so the logic runs against a scratch tree in its test.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Where, under the root, the boot links the setup created are listed (JSON array of link keys). */
export const ownedLinksFile = join('var', 'lib', 'dbgrelay-test-setup', 'boot-links.json');

const systemdConfigDir = join('etc', 'systemd', 'system');
const runlevelDirs = ['rcS.d', 'rc0.d', 'rc1.d', 'rc2.d', 'rc3.d', 'rc4.d', 'rc5.d', 'rc6.d'].map((dir) => join('etc', dir));

/** Names in `dir` (none when it does not exist). */
function names(dir) {
  return existsSync(dir) ? readdirSync(dir) : [];
}

/**
 * The links under `root` that start something at boot, as keys relative to the root:
 * `etc/systemd/system/<target>.wants/<unit>` (and `.requires`), and
 * `etc/rc<N>.d/S??<script>` (the order number left out: enabling again may change it).
 */
export function bootLinks(root) {
  const keys = [];
  for (const name of names(join(root, systemdConfigDir))) {
    if (!/\.(wants|requires)$/.test(name)) continue;
    for (const unit of names(join(root, systemdConfigDir, name))) keys.push(join(systemdConfigDir, name, unit));
  }
  for (const dir of runlevelDirs) {
    for (const name of names(join(root, dir))) {
      const script = /^S\d\d(.+)$/.exec(name)?.[1];
      if (script !== undefined) keys.push(join(dir, `S??${script}`));
    }
  }
  return keys.sort();
}

/** The link keys the setup recorded as its own under `root` (none before its first install). */
export function ownedBootLinks(root) {
  const file = join(root, ownedLinksFile);
  if (!existsSync(file)) return [];
  try {
    const owned = JSON.parse(readFileSync(file, 'utf8'));
    if (Array.isArray(owned) && owned.every((key) => typeof key === 'string')) return owned;
  } catch {
    // an unreadable record below
  }
  console.warn(`setup: ${file} is not a list of boot links; it is ignored (and written again by the next install)`);
  return [];
}

/** Adds `keys` to the setup's own links under `root`; returns them all. */
export function recordOwnedBootLinks(root, keys) {
  const owned = [...new Set([...ownedBootLinks(root), ...keys])].sort();
  if (keys.length > 0) {
    const file = join(root, ownedLinksFile);
    mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
    writeFileSync(file, `${JSON.stringify(owned, null, 2)}\n`);
  }
  return owned;
}

/**
 * Disables each of `keys` that is enabled under `root`, as `systemctl disable` and
 * `update-rc.d disable` do: a wants/requires link is removed, a start link `S??name`
 * becomes the stop link `K??name` (maintainer scripts leave a script that has any link
 * as it is). Returns the keys it disabled.
 */
export function disableBootLinks(root, keys) {
  const enabled = new Set(bootLinks(root));
  const disabled = keys.filter((key) => enabled.has(key));
  for (const key of disabled) {
    const startLink = /^(.*)[/\\]S\?\?(.+)$/.exec(key);
    if (!startLink) {
      unlinkSync(join(root, key));
      continue;
    }
    const [, dir, script] = startLink;
    for (const name of names(join(root, dir))) {
      if (new RegExp(`^S\\d\\d${script.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`).test(name)) renameSync(join(root, dir, name), join(root, dir, `K${name.slice(1)}`));
    }
  }
  return disabled;
}

/**
 * After the setup's package install: records the boot links that appeared since
 * `before` (a {@link bootLinks} snapshot taken just before it) as the setup's own, then
 * disables every link the setup owns that is enabled now. Returns both lists.
 */
export function disableOwnBootLinks(root, before) {
  const created = bootLinks(root).filter((key) => !before.includes(key));
  const owned = recordOwnedBootLinks(root, created);
  return { created, disabled: disableBootLinks(root, owned) };
}
