import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { RelayError } from '../common/relayError.js';
import { configDefaults } from './configDefaults.js';
import { formatConfigIssues, type ConfigFileLines } from './configIssues.js';
import { relayConfigSchema, type RelayConfig } from './configSchema.js';
import { configFileEnvironmentVariable, convertValue, environmentBindings, flagBindings, pathKeys, type ServeFlags } from './configSources.js';
import { resolveSshTargetPaths } from './sshTargetConfigSchema.js';
import { parseYamlSource } from './yamlSource.js';

/** Inputs of {@link loadConfig}; each layer overrides the one before. */
export interface LoadConfigOptions {
  /** Environment (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  /** Flags of `dbgrelay serve`, including `config` (the config file path). */
  readonly flags?: ServeFlags;
  /** Extra keys merged last (tests, embedding). */
  readonly overrides?: Record<string, unknown>;
  /** Directory relative paths from env and flags are resolved against (default cwd). */
  readonly cwd?: string;
}

type Tree = Record<string, unknown>;

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function setKey(tree: Tree, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    if (!isTree(node[part])) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1]!] = value;
}

function getKey(tree: Tree, key: string): unknown {
  let node: unknown = tree;
  for (const part of key.split('.')) node = isTree(node) ? node[part] : undefined;
  return node;
}

/**
 * Merges `overlay` into `base` (in place); a null or undefined overlay value means "not
 * set". A `__proto__` key is refused: YAML makes it an ordinary key, and merging it
 * would write into `Object.prototype`, i.e. into every object of the process.
 */
function merge(base: Tree, overlay: Tree, path = ''): Tree {
  for (const [key, value] of Object.entries(overlay)) {
    if (key === '__proto__') throw new RelayError('CONFIG_INVALID', `${path}${key}: not a configuration key`);
    if (value === null || value === undefined) continue;
    if (isTree(value) && isTree(base[key])) merge(base[key] as Tree, value, `${path}${key}.`);
    else base[key] = isTree(value) ? merge({}, value, `${path}${key}.`) : value;
  }
  return base;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function readConfigFile(file: string): { tree: Tree; lines: ConfigFileLines } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new RelayError('CONFIG_INVALID', `config file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  const source = parseYamlSource(text, file);
  const lines: ConfigFileLines = { file, locate: source.locate };
  const parsed = source.value;
  if (parsed === null || parsed === undefined) return { tree: {}, lines };
  if (!isTree(parsed)) throw new RelayError('CONFIG_INVALID', `config file ${file}: expected a mapping at the top level`);
  refuseCycles(parsed, file);
  if (getKey(parsed, 'auth.secret') !== undefined) {
    throw new RelayError(
      'CONFIG_INVALID',
      `auth.secret: not accepted in the config file ${file}:${source.lineOf(['auth', 'secret']) ?? 1}; use auth.secretFile or the DBGRELAY_SECRET environment variable`,
    );
  }
  const base = dirname(resolve(file));
  for (const key of pathKeys) {
    const value = getKey(parsed, key);
    if (typeof value === 'string' && value !== '') setKey(parsed, key, resolve(base, value));
  }
  resolveSshTargetPaths(parsed, base);
  return { tree: parsed, lines };
}

/**
 * Throws `CONFIG_INVALID` when a YAML alias makes a value contain itself (`a: &a {b: *a}`):
 * such a tree has no end, and merging or validating it would never finish.
 */
function refuseCycles(value: unknown, file: string, ancestors: Set<unknown> = new Set()): void {
  if (typeof value !== 'object' || value === null) return;
  if (ancestors.has(value)) throw new RelayError('CONFIG_INVALID', `config file ${file}: a YAML alias refers to a value that contains it`);
  ancestors.add(value);
  for (const child of Object.values(value)) refuseCycles(child, file, ancestors);
  ancestors.delete(value);
}

/**
 * Builds the relay configuration: built-in defaults ← YAML file (`flags.config` or
 * `DBGRELAY_CONFIG`) ← `DBGRELAY_*` environment variables ← flags ← `overrides`.
 * Returns a validated, deeply frozen object; throws `CONFIG_INVALID` naming the key.
 */
export function loadConfig(options: LoadConfigOptions = {}): RelayConfig {
  const env = options.env ?? process.env;
  const flags = options.flags ?? {};
  const cwd = options.cwd ?? process.cwd();
  const sources = new Map<string, string>();
  const tree = configDefaults(env);

  const file = flags.config ?? env[configFileEnvironmentVariable];
  let fileLines: ConfigFileLines | undefined;
  if (file) {
    const read = readConfigFile(resolve(cwd, file));
    merge(tree, read.tree);
    fileLines = read.lines;
  }

  const layer = (key: string, raw: string, kind: string, source: string): void => {
    const value = convertValue(raw, kind as 'string');
    setKey(tree, key, kind === 'path' && raw !== '' ? resolve(cwd, raw) : value);
    sources.set(key, source);
  };
  for (const binding of environmentBindings) {
    const raw = env[binding.env];
    if (raw !== undefined) layer(binding.key, raw, binding.kind, binding.env);
  }
  for (const binding of flagBindings) {
    const raw = flags[binding.flag];
    if (raw !== undefined) layer(binding.key, raw, binding.kind, binding.option);
  }
  if (options.overrides) merge(tree, options.overrides);

  if (typeof tree['dataDir'] === 'string' && getKey(tree, 'auth.secretFile') === undefined && isTree(tree['auth'])) {
    setKey(tree, 'auth.secretFile', join(tree['dataDir'], 'secret'));
  }
  const result = relayConfigSchema.safeParse(tree);
  if (!result.success) {
    const context = { schema: relayConfigSchema, tree, sources, ...(fileLines !== undefined ? { file: fileLines } : {}) };
    throw new RelayError('CONFIG_INVALID', `invalid configuration: ${formatConfigIssues(result.error.issues, context)}`);
  }
  return deepFreeze(result.data) as RelayConfig;
}
