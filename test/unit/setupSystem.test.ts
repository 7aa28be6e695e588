import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bootLinks, disableOwnBootLinks, ownedLinksFile } from '../bootLinks.mjs';
import { systemTools } from '../setupSystem.mjs';

/**
 * test/setupSystem.mjs: the Debian packages the tests need are installed on this machine
 * (npm test runs the setup first), and its boot-link logic (test/bootLinks.mjs), run
 * against a scratch root directory: it disables the boot links its install created and
 * only those, and again after a package upgrade enabled one of them.
 */
const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A scratch root with `links` (paths under it) as symlinks to a unit file or init script. */
function scratchRoot(links: readonly string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'dbgrelay-boot-'));
  roots.push(root);
  addLinks(root, links);
  return root;
}

function addLinks(root: string, links: readonly string[]): void {
  for (const link of links) {
    mkdirSync(dirname(join(root, link)), { recursive: true });
    symlinkSync(link.includes('systemd') ? '/lib/systemd/system/x.service' : '../init.d/x', join(root, link));
  }
}

/** What the package install of a setup run does in the scratch root. */
const installHaproxy = ['etc/systemd/system/multi-user.target.wants/haproxy.service', 'etc/rc2.d/S01haproxy', 'etc/rc3.d/S01haproxy'];
/** A developer's own services, enabled before the setup ran. */
const ownServices = ['etc/systemd/system/multi-user.target.wants/nginx.service', 'etc/rc2.d/S01nginx', 'etc/systemd/system/sockets.target.wants/ssh.socket', 'etc/rcS.d/S01ssh'];

describe('test/setupSystem.mjs', () => {
  it('installed every tool', () => {
    expect(systemTools.filter(({ binary }) => !existsSync(binary)).map(({ pkg }) => pkg)).toEqual([]);
  });

  it('disables the boot links its install created, and none that were there before', () => {
    const root = scratchRoot(ownServices);
    const before = bootLinks(root);
    expect(before).toEqual([
      'etc/rc2.d/S??nginx',
      'etc/rcS.d/S??ssh',
      'etc/systemd/system/multi-user.target.wants/nginx.service',
      'etc/systemd/system/sockets.target.wants/ssh.socket',
    ]);
    addLinks(root, installHaproxy);

    const { created, disabled } = disableOwnBootLinks(root, before);
    expect(created).toEqual(['etc/rc2.d/S??haproxy', 'etc/rc3.d/S??haproxy', 'etc/systemd/system/multi-user.target.wants/haproxy.service']);
    expect(disabled).toEqual(created);
    expect(bootLinks(root)).toEqual(before);
    expect(readdirSync(join(root, 'etc/rc2.d')).sort()).toEqual(['K01haproxy', 'S01nginx']);
    expect(lstatSync(join(root, 'etc/systemd/system/multi-user.target.wants/nginx.service')).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(join(root, ownedLinksFile), 'utf8'))).toEqual(created);
  });

  it('disables its own links again on a later run after a package upgrade enabled them, still leaving the others', () => {
    const root = scratchRoot(ownServices);
    const first = bootLinks(root);
    addLinks(root, installHaproxy);
    disableOwnBootLinks(root, first);

    // an upgrade's maintainer script enables haproxy again (S02: a new order number); the developer enables redis
    addLinks(root, ['etc/systemd/system/multi-user.target.wants/haproxy.service', 'etc/systemd/system/multi-user.target.wants/redis-server.service']);
    renameSync(join(root, 'etc/rc2.d/K01haproxy'), join(root, 'etc/rc2.d/S02haproxy'));
    const second = bootLinks(root); // the next run installs nothing
    const { created, disabled } = disableOwnBootLinks(root, second);
    expect(created).toEqual([]);
    expect(disabled).toEqual(['etc/rc2.d/S??haproxy', 'etc/systemd/system/multi-user.target.wants/haproxy.service']);
    expect(bootLinks(root)).toEqual([...first, 'etc/systemd/system/multi-user.target.wants/redis-server.service'].sort());
    expect(readdirSync(join(root, 'etc/rc2.d')).sort()).toEqual(['K02haproxy', 'S01nginx']);
  });

  it('changes nothing when its install created no link and it owns none', () => {
    const root = scratchRoot(ownServices);
    expect(disableOwnBootLinks(root, bootLinks(root))).toEqual({ created: [], disabled: [] });
    expect(existsSync(join(root, ownedLinksFile))).toBe(false);
    expect(bootLinks(root)).toHaveLength(ownServices.length);
  });

  it('takes a record that is not a list of links as none, disabling nothing that was there before', () => {
    const root = scratchRoot(ownServices);
    mkdirSync(dirname(join(root, ownedLinksFile)), { recursive: true });
    writeFileSync(join(root, ownedLinksFile), '{"not": "a list"');
    expect(disableOwnBootLinks(root, bootLinks(root))).toEqual({ created: [], disabled: [] });
    expect(bootLinks(root)).toHaveLength(ownServices.length);
  });
});
