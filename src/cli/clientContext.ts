import type { Command } from 'commander';
import { isIP } from 'node:net';
import { RelayError } from '../common/relayError.js';
import { parseRelayEndpoint } from '../dial/relayEndpoint.js';
import { contextOf, readClientConfig } from '../config/clientConfigFile.js';
import type { ClientContext } from '../config/clientConfigSchema.js';
import type { ClientFlagValues } from './clientFlagValues.js';
import { tokenEnvironmentVariable } from './clientToken.js';

/** Environment variable naming the context when `--context` is not given. */
export const contextEnvironmentVariable = 'DBGRELAY_CONTEXT';

/** Flags and environment with the context's values filled in where neither gave one, and notes saying so. */
export interface ContextualClient<T extends ClientFlagValues> {
  readonly values: T;
  readonly env: NodeJS.ProcessEnv;
  readonly notes: readonly string[];
  /** The credential source taken from the context, as `the secret-file PATH of context "NAME"`. */
  readonly credential?: string;
}

/** Adds `--context NAME` to a command that talks to a relay (for commands that do not take {@link addClientOptions}). */
export function addContextOption(command: Command): Command {
  return command.option(
    '--context <name>',
    `use the named context of the client config file (dbgrelay config get-contexts; env ${contextEnvironmentVariable}; default its current-context); flags and environment variables override its values`,
  );
}

/** True when the URL's authority carries a `secret@`. */
function hasUrlSecret(url: string | undefined): boolean {
  return url !== undefined && /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*@/.test(url.trim());
}

/**
 * The relay a URL names, as one spelling: scheme, host (IPv6 in its shortest form),
 * port (a default port written out or not) and path, without a `secret@`. A URL that
 * does not parse stands for itself (its later use refuses it).
 */
function relayIdentity(url: string): string {
  try {
    const endpoint = parseRelayEndpoint(url);
    const host = isIP(endpoint.host) === 6 ? new URL(`http://[${endpoint.host}]/`).hostname : endpoint.host;
    return `${endpoint.scheme}://${host}:${endpoint.port}${endpoint.basePath}`;
  } catch {
    return url.trim();
  }
}

/** The context's value of an `-env` credential source, which must be set. */
function fromEnvironment(env: NodeJS.ProcessEnv, variable: string, name: string, key: string): string {
  const value = env[variable];
  if (value === undefined || value === '') throw new RelayError('CONFIG_INVALID', `context "${name}": ${key} names ${variable}, which is not set`);
  return value;
}

/**
 * Fills in what the client context leaves to the context: the context named by
 * `--context`, else `DBGRELAY_CONTEXT`, else the file's `current-context`; none when
 * there is no file and no name. Precedence is flags > environment variables > context >
 * built-in defaults: the context's relay, trust (ca or fingerprints), credential source
 * and client certificate are each used only when no flag or variable gives that part.
 * A flag or variable naming another relay than the context's sets the whole context
 * aside: its credential is never sent to a relay it was not written for.
 * An `-env` source is passed on as `DBGRELAY_SECRET` or `DBGRELAY_TOKEN`. Throws
 * `CONFIG_INVALID` (a malformed file, an unknown context with the known ones).
 */
export function applyClientContext<T extends ClientFlagValues>(values: T, env: NodeJS.ProcessEnv): ContextualClient<T> {
  const named = values.context ?? (env[contextEnvironmentVariable] || undefined);
  const file = readClientConfig(env);
  const name = named ?? file.config['current-context'];
  if (name === undefined) return { values, env, notes: [] };
  const given = values.context !== undefined ? '--context' : named !== undefined ? contextEnvironmentVariable : `current-context of ${file.path}`;
  const context: ClientContext = contextOf(file, name, given);

  const merged = { ...values } as Record<string, unknown>;
  const environment: NodeJS.ProcessEnv = { ...env };
  const taken: string[] = [];
  let credential: string | undefined;
  const overridden: string[] = [];
  const otherRelay = values.relay ?? (env['DBGRELAY_RELAY'] || undefined);
  if (context.relay !== undefined && otherRelay !== undefined && relayIdentity(otherRelay) !== relayIdentity(context.relay)) {
    // The context's credential, trust and certificate belong to its relay: never hand them to another one.
    const by = values.relay !== undefined ? '--relay' : 'DBGRELAY_RELAY';
    return { values, env, notes: [`context "${name}" (${given}) not used: ${by} names another relay than its ${context.relay}`] };
  }
  if (context.relay !== undefined && otherRelay === undefined) {
    environment['DBGRELAY_RELAY'] = context.relay;
    taken.push(`relay ${context.relay}`);
  }
  if (context.ca !== undefined || context.fingerprints !== undefined) {
    if (values.ca === undefined && values.fingerprint === undefined) {
      if (context.ca !== undefined) merged['ca'] = context.ca;
      else merged['fingerprint'] = [...(context.fingerprints ?? [])];
      taken.push(context.ca !== undefined ? `ca ${context.ca}` : 'fingerprints');
    } else overridden.push('trust');
  }
  const credentialGiven =
    values.secretFile !== undefined ||
    values.tokenFile !== undefined ||
    !!env['DBGRELAY_SECRET'] ||
    !!env[tokenEnvironmentVariable] ||
    hasUrlSecret(values.relay ?? env['DBGRELAY_RELAY']);
  const source = (['secret-file', 'token-file', 'secret-env', 'token-env'] as const).find((key) => context[key] !== undefined);
  if (source !== undefined) {
    if (credentialGiven) overridden.push('credential');
    else {
      const value = context[source]!;
      if (source === 'secret-file') merged['secretFile'] = value;
      else if (source === 'token-file') merged['tokenFile'] = value;
      else if (source === 'secret-env') environment['DBGRELAY_SECRET'] = fromEnvironment(env, value, name, source);
      else environment[tokenEnvironmentVariable] = fromEnvironment(env, value, name, source);
      taken.push(`${source} ${value}`);
      credential = `the ${source.startsWith('token') ? 'token' : 'secret'} in ${source} ${value} of context "${name}"`;
    }
  }
  if (context.cert !== undefined && context.key !== undefined) {
    if (values.cert === undefined && values.key === undefined) {
      merged['cert'] = context.cert;
      merged['key'] = context.key;
      taken.push(`cert ${context.cert}`);
    } else overridden.push('client certificate');
  }
  const notes = [
    `context "${name}" (${given}): ${taken.length > 0 ? taken.join(', ') : 'nothing taken from it'}` +
      (overridden.length > 0 ? `; flags or environment variables give its ${overridden.join(', ')}` : ''),
  ];
  return { values: merged as T, env: environment, notes, ...(credential !== undefined ? { credential } : {}) };
}
