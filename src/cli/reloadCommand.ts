import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { RelayError } from '../common/relayError.js';
import { defaultDataDir } from '../config/configDefaults.js';
import { configFileEnvironmentVariable } from '../config/configSources.js';
import { loadConfig } from '../config/loadConfig.js';
import { readPidFile, readReloadStatus, pidFile, type ReloadStatus } from '../lifecycle/runFiles.js';

interface ReloadFlags {
  readonly config?: string;
  readonly dataDir?: string;
  readonly timeout: string;
}

/**
 * The data directory of the relay `serve` would run with these flags. When the
 * configuration does not load (the very mistake a reload will report), it falls back
 * to `--data-dir`, `DBGRELAY_DATA_DIR`, the file's own `dataDir`, the default.
 */
function locateDataDir(flags: ReloadFlags): string {
  const env = process.env;
  try {
    return loadConfig({ flags: { ...(flags.config ? { config: flags.config } : {}), ...(flags.dataDir ? { dataDir: flags.dataDir } : {}) } }).dataDir;
  } catch {
    if (flags.dataDir) return resolve(flags.dataDir);
    if (env['DBGRELAY_DATA_DIR']) return resolve(env['DBGRELAY_DATA_DIR']);
    const file = flags.config ?? env[configFileEnvironmentVariable];
    try {
      const parsed = file ? (parseYaml(readFileSync(file, 'utf8')) as { dataDir?: unknown } | null) : undefined;
      if (typeof parsed?.dataDir === 'string') return resolve(dirname(resolve(file!)), parsed.dataDir);
    } catch {
      // unreadable: the default below
    }
    return defaultDataDir(env);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function report(status: ReloadStatus): void {
  const say = (line: string): void => void process.stdout.write(line + '\n');
  say(`dbgrelay: configuration reloaded (pid ${status.pid})`);
  if (status.changed?.length) say(`  applied: ${status.changed.join(', ')}`);
  if (status.secretChanged) say('  the relay secret changed');
  if (status.certificateChanged) say('  the certificate changed');
  const targets = status.targets;
  if (targets && targets.added.length + targets.removed.length + targets.replaced.length > 0) {
    say(`  targets: added ${targets.added.join(', ') || '-'}; removed ${targets.removed.join(', ') || '-'}; replaced ${targets.replaced.join(', ') || '-'}`);
  }
  if (!status.changed?.length && !status.secretChanged && !status.certificateChanged) say('  nothing changed');
  if (status.needsRestart?.length) say(`  needs a restart (old value still in force): ${status.needsRestart.join(', ')}`);
}

/**
 * How often `dbgrelay reload` reads the status file while it waits: often enough to
 * answer promptly, at the cost of a few small reads.
 */
export const reloadStatusPollMs = 50;

async function reload(flags: ReloadFlags): Promise<void> {
  const dataDir = locateDataDir(flags);
  const pid = readPidFile(dataDir);
  if (pid === undefined) throw new RelayError('RELAY_UNREACHABLE', `no running relay: no pid file ${pidFile(dataDir)}`);
  if (!isRunning(pid)) throw new RelayError('RELAY_UNREACHABLE', `no running relay: process ${pid} of ${pidFile(dataDir)} is gone`);
  const timeoutMs = Number(flags.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new RelayError('BAD_REQUEST', '--timeout: expected a positive integer (ms)');
  const before = readReloadStatus(dataDir);
  const seen = before?.pid === pid ? before.count : 0;
  process.kill(pid, 'SIGHUP');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = readReloadStatus(dataDir);
    if (status && status.pid === pid && status.count > seen) {
      if (status.outcome === 'applied') return report(status);
      const error = status.error ?? { code: 'CONFIG_INVALID', message: 'refused' };
      throw new RelayError(error.code === 'CONFIG_INVALID' ? 'CONFIG_INVALID' : 'INTERNAL', `reload refused, the running configuration stays in force: ${error.message}`);
    }
    if (Date.now() > deadline) throw new RelayError('RELAY_UNREACHABLE', `the relay (pid ${pid}) did not report a reload within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, reloadStatusPollMs));
  }
}

/** Adds `dbgrelay reload`: SIGHUP to the running relay, then its outcome. */
export function registerReloadCommand(program: Command): void {
  program
    .command('reload')
    .description("Reload the running relay's configuration (SIGHUP via <dataDir>/dbgrelay.pid) and print the outcome.")
    .option('-c, --config <file>', 'the config file the relay runs with, to find its data directory (env DBGRELAY_CONFIG)')
    .option('--data-dir <dir>', "the relay's data directory (env DBGRELAY_DATA_DIR)")
    .option('--timeout <ms>', 'how long to wait for the outcome', '10000')
    .addHelpText(
      'after',
      '\nExits 0 when the relay applied the configuration (keys that need a restart are listed),\n78 when it refused it (the message names the key), 1 when it cannot be reached.',
    )
    .action(async (flags: ReloadFlags) => reload(flags));
}
