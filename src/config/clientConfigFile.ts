import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { didYouMean } from '../common/closestName.js';
import { printable } from '../common/printable.js';
import { RelayError } from '../common/relayError.js';
import { clientConfigSchema, type ClientConfig, type ClientContext } from './clientConfigSchema.js';
import { formatConfigIssues } from './configIssues.js';
import { parseYamlSource } from './yamlSource.js';

/** Environment variable naming the client config file (`DBGRELAY_CONFIG` is the relay's own file). */
export const clientConfigEnvironmentVariable = 'DBGRELAY_CLIENT_CONFIG';

/** Bound on the size of the client config file. */
const maxClientConfigBytes = 1024 * 1024;

/** Keys that would hold a credential itself; the file names where one comes from instead. */
const secretKeys = /^(secret|token|password|passphrase|relay-secret|attach-secret|bearer)$/i;

/** The client config file as read: where it is, whether it exists, and its contents. */
export interface ClientConfigFile {
  readonly path: string;
  readonly exists: boolean;
  readonly config: ClientConfig;
}

/**
 * Where the client config file is: `DBGRELAY_CLIENT_CONFIG`, else
 * `$XDG_CONFIG_HOME/dbgrelay/config.yaml`, else `~/.config/dbgrelay/config.yaml`.
 */
export function clientConfigPath(env: NodeJS.ProcessEnv): string {
  const explicit = env[clientConfigEnvironmentVariable];
  if (explicit) return resolve(explicit);
  const configHome = env['XDG_CONFIG_HOME'];
  const base = configHome && isAbsolute(configHome) ? configHome : join(env['HOME'] || homedir(), '.config');
  return join(base, 'dbgrelay', 'config.yaml');
}

/** A path of the file: `~/` is the home directory, a relative path is relative to the file's directory. */
function resolvePath(path: string, fileDir: string, env: NodeJS.ProcessEnv): string {
  if (path === '~' || path.startsWith('~/')) return join(env['HOME'] || homedir(), path.slice(1));
  return resolve(fileDir, path);
}

function refuseSecrets(value: unknown, file: string, lineOf: (path: readonly PropertyKey[]) => number | undefined): void {
  const contexts = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)['contexts'] : undefined;
  if (typeof contexts !== 'object' || contexts === null) return;
  for (const [name, context] of Object.entries(contexts)) {
    if (typeof context !== 'object' || context === null) continue;
    for (const key of Object.keys(context)) {
      if (!secretKeys.test(key)) continue;
      const line = lineOf(['contexts', name, key]);
      throw new RelayError(
        'CONFIG_INVALID',
        `contexts.${name}.${key}: a secret is not kept in the client config file (${file}${line !== undefined ? `:${line}` : ''}); ` +
          'give secret-file FILE or token-file FILE, or secret-env/token-env with the name of an environment variable',
      );
    }
  }
}

/**
 * Parses the client config file's text: strict schema, relative paths resolved against
 * the file's directory. Errors are `CONFIG_INVALID` naming the file and line, with a
 * "did you mean" for an unknown key; a credential written in the file is refused
 * without quoting it.
 */
export function parseClientConfig(text: string, file: string, env: NodeJS.ProcessEnv): ClientConfig {
  const source = parseYamlSource(text, file);
  const value = source.value ?? {};
  refuseSecrets(value, file, source.lineOf);
  const result = clientConfigSchema.safeParse(value);
  if (!result.success) {
    const message = formatConfigIssues(result.error.issues, { schema: clientConfigSchema, tree: value, sources: new Map(), file: { file, locate: source.locate } });
    throw new RelayError('CONFIG_INVALID', `invalid client config: ${message}`);
  }
  const fileDir = dirname(file);
  const contexts: Record<string, ClientContext> = {};
  for (const [name, context] of Object.entries(result.data.contexts)) {
    const resolved: Record<string, unknown> = { ...context };
    for (const key of ['ca', 'secret-file', 'token-file', 'cert', 'key'] as const) {
      const path = context[key];
      if (path !== undefined) resolved[key] = resolvePath(path, fileDir, env);
    }
    contexts[name] = resolved as ClientContext;
  }
  return { ...result.data, contexts };
}

/** Reads the client config file ({@link clientConfigPath}); a missing file is an empty one. Throws `CONFIG_INVALID`. */
export function readClientConfig(env: NodeJS.ProcessEnv): ClientConfigFile {
  const path = clientConfigPath(env);
  let text: string;
  try {
    if (statSync(path).size > maxClientConfigBytes) throw new RelayError('CONFIG_INVALID', `client config ${path}: larger than ${maxClientConfigBytes} bytes`);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof RelayError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { path, exists: false, config: { contexts: {} } };
    throw new RelayError('CONFIG_INVALID', `client config ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return { path, exists: true, config: parseClientConfig(text, path, env) };
}

/**
 * The context `name` of the file. An unknown name is `CONFIG_INVALID` listing the
 * known ones, with the closest as a "did you mean"; `given` says where the name came
 * from (`--context`, `DBGRELAY_CONTEXT`, the file's current-context).
 */
export function contextOf(file: ClientConfigFile, name: string, given: string): ClientContext {
  const context = Object.hasOwn(file.config.contexts, name) ? file.config.contexts[name] : undefined;
  if (context !== undefined) return context;
  const known = Object.keys(file.config.contexts);
  name = printable(name);
  if (!file.exists) {
    throw new RelayError(
      'CONFIG_INVALID',
      `${given}: no context "${name}": there is no client config file at ${file.path} (create one with dbgrelay config set-context ${name} --relay URL ...)`,
    );
  }
  const list = known.length > 0 ? `known contexts: ${known.join(', ')}` : 'it has no contexts';
  throw new RelayError('CONFIG_INVALID', `${given}: no context "${name}" in ${file.path} (${list})${didYouMean(name, known)}`);
}
