import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * deploy/systemd/dbgrelay.service: verified by systemd itself (`systemd-analyze
 * verify`, which also needs the ExecStart binary to exist: the copy under test runs
 * this Node.js binary instead), and checked for the hardening we promise.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const unitText = readFileSync(join(root, 'deploy', 'systemd', 'dbgrelay.service'), 'utf8');
const systemdAnalyze = '/usr/bin/systemd-analyze';

/** `Key=value` settings of the unit, every value of each key in order. */
function settings(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match) map.set(match[1]!, [...(map.get(match[1]!) ?? []), match[2]!]);
  }
  return map;
}

describe('deploy/systemd/dbgrelay.service', () => {
  it('passes systemd-analyze verify without a single warning', () => {
    expect(existsSync(systemdAnalyze), `${systemdAnalyze} is missing: install systemd (node test/setupSystem.mjs does)`).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-unit-'));
    const unit = join(dir, 'dbgrelay.service');
    const original = /^ExecStart=\/usr\/local\/bin\/dbgrelay /m;
    expect(unitText).toMatch(original);
    writeFileSync(unit, unitText.replace(original, `ExecStart=${process.execPath} ${join(root, 'dist', 'cli', 'main.js')} `));
    const result = spawnSync(systemdAnalyze, ['verify', '--man=no', unit], { encoding: 'utf8', cwd: dir, timeout: 15_000 });
    expect(result.error).toBeUndefined();
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
    expect(result.status).toBe(0);
  });

  it('would have caught a mistyped directive (the check above is not vacuous)', () => {
    expect(existsSync(systemdAnalyze), `${systemdAnalyze} is missing: install systemd (node test/setupSystem.mjs does)`).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-unit-'));
    const unit = join(dir, 'dbgrelay.service');
    writeFileSync(unit, unitText.replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`).replace('Restart=on-failure', 'Restart=on-failure\nRestartt=always'));
    const result = spawnSync(systemdAnalyze, ['verify', '--man=no', unit], { encoding: 'utf8', cwd: dir, timeout: 15_000 });
    expect(result.stderr).toContain("Unknown key 'Restartt'");
  });

  it('runs unprivileged and hardened, restarts on failure but not on an invalid configuration (exit 78), reloads with SIGHUP', () => {
    const unit = settings(unitText);
    const expected: Record<string, string> = {
      DynamicUser: 'yes',
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      StateDirectory: 'dbgrelay',
      ConfigurationDirectory: 'dbgrelay',
      Restart: 'on-failure',
      RestartPreventExitStatus: '78',
      ExecReload: '/bin/kill -HUP $MAINPID',
      KillSignal: 'SIGTERM',
      CapabilityBoundingSet: '',
      RestrictSUIDSGID: 'yes',
      SystemCallFilter: '@system-service',
      UMask: '0077',
    };
    for (const [key, value] of Object.entries(expected)) expect(unit.get(key), key).toEqual([value]);
    expect(unit.get('ExecStart')![0]).toMatch(/ serve --config \/etc\/dbgrelay\/config\.yaml$/);
    expect(unit.has('User')).toBe(false);
  });
});
