import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/loadConfig.js';
import { check, within } from './contract.js';

const directory = mkdtempSync(join(tmpdir(), 'dbgrelay-fuzz-config-'));
const file = join(directory, 'relay.yaml');
process.once('exit', () => rmSync(directory, { recursive: true, force: true }));
/** A line `#!env NAME=value` (a YAML comment) also sets an environment variable. */
const envLine = /^#!env (DBGRELAY_[A-Z_]+)=(.*)$/gm;

/**
 * The relay configuration (src/config/loadConfig.ts, configSources.ts, the zod schemas
 * of src/config/): a YAML file and `DBGRELAY_*` environment variables, as
 * `dbgrelay serve` reads them. The input is the file; its `#!env NAME=value` comment
 * lines are set in the environment too. Asserts: a configuration or `CONFIG_INVALID`,
 * never another exception (deep YAML, aliases, `__proto__` keys, huge numbers); what
 * loads is frozen.
 */
export function fuzz(data: Buffer): void {
  const env: NodeJS.ProcessEnv = { HOME: directory };
  for (const [, name, value] of data.toString('utf8').matchAll(envLine)) env[name!] = value;
  writeFileSync(file, data);
  const config = within(['CONFIG_INVALID'], 'loadConfig', () => loadConfig({ env, flags: { config: file }, cwd: directory }));
  const polluted = Object.keys(Object.prototype);
  if (polluted.length > 0) {
    for (const key of polluted) delete (Object.prototype as Record<string, unknown>)[key];
    check(false, `loading a configuration wrote ${polluted.join(', ')} into Object.prototype`);
  }
  if (config !== undefined) check(Object.isFrozen(config) && Object.isFrozen(config.listeners), 'a loaded configuration is not frozen');
}
