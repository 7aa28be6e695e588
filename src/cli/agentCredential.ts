import { readFileSync } from 'node:fs';
import { RelayError } from '../common/relayError.js';
import { parseRelayEndpoint } from '../dial/relayEndpoint.js';

/** The flags of `dbgrelay doctor --as agent` that name an agent's credential, as the agent's own CLI takes them. */
export interface AgentCredentialFlags {
  /** The agent's `--token-file`. */
  readonly tokenFile?: string;
  /** The agent's `--agent-secret-file`. */
  readonly agentSecretFile?: string;
  /** The agent's `--secret-file`: the target's attach secret, its relay credential when no other is given. */
  readonly secretFile?: string;
  readonly relay?: string;
}

/** The credential an agent would present to the relay, and where it came from (never its value). */
export interface AgentCredential {
  readonly kind: 'token' | 'secret';
  readonly value: string;
  readonly source: string;
}

/** The agent's credential, or why the agent would have none (it would refuse to start). */
export type AgentCredentialChoice = { readonly credential: AgentCredential } | { readonly problem: RelayError };

function read(file: string, source: string): AgentCredential['value'] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new RelayError('CONFIG_INVALID', `${source}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const value = text.trim();
  if (value === '') throw new RelayError('CONFIG_INVALID', `${source}: ${file} is empty`);
  return value;
}

/** `name`, else the file named by `fileName` (agent-py `credentials._env_value`). */
function fromEnvironment(env: NodeJS.ProcessEnv, kind: AgentCredential['kind'], name: string, fileName: string, what: string): AgentCredential | undefined {
  if (env[name]) return { kind, value: env[name], source: `the ${what} in ${name}` };
  const file = env[fileName];
  if (file) return { kind, value: read(file, fileName), source: `the ${what} in ${fileName} ${file}` };
  return undefined;
}

/** The `secret@` of the relay URL, when it parses (a URL that does not is refused later, with its reason). */
function urlSecret(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return parseRelayEndpoint(url).secret;
  } catch {
    return undefined;
  }
}

function choose(flags: AgentCredentialFlags, env: NodeJS.ProcessEnv): AgentCredential {
  const relayUrl = flags.relay ?? (env['DBGRELAY_RELAY'] || undefined);
  const inUrl = urlSecret(relayUrl);
  const explicit = [
    flags.tokenFile !== undefined ? { kind: 'token', value: read(flags.tokenFile, '--token-file'), source: `the token in --token-file ${flags.tokenFile}` } : undefined,
    flags.agentSecretFile !== undefined
      ? { kind: 'secret', value: read(flags.agentSecretFile, '--agent-secret-file'), source: `the agent secret in --agent-secret-file ${flags.agentSecretFile}` }
      : undefined,
    inUrl !== undefined ? { kind: 'secret', value: inUrl, source: `the secret@ in the ${flags.relay !== undefined ? '--relay' : 'DBGRELAY_RELAY'} URL` } : undefined,
  ].filter((credential): credential is AgentCredential => credential !== undefined);
  if (explicit.length > 1) {
    throw new RelayError('CONFIG_INVALID', `give the agent one relay credential: ${explicit.map((credential) => credential.source).join(', ')} were given`);
  }
  if (explicit[0] !== undefined) return explicit[0];
  const token = fromEnvironment(env, 'token', 'DBGRELAY_TOKEN', 'DBGRELAY_TOKEN_FILE', 'token');
  const agentSecret = fromEnvironment(env, 'secret', 'DBGRELAY_AGENT_SECRET', 'DBGRELAY_AGENT_SECRET_FILE', 'agent secret');
  if (token !== undefined && agentSecret !== undefined) {
    throw new RelayError('CONFIG_INVALID', `both ${token.source} and ${agentSecret.source} are set: the agent takes only one relay credential`);
  }
  const attach =
    flags.secretFile !== undefined
      ? { kind: 'secret' as const, value: read(flags.secretFile, '--secret-file'), source: `the secret in --secret-file ${flags.secretFile}` }
      : fromEnvironment(env, 'secret', 'DBGRELAY_SECRET', 'DBGRELAY_SECRET_FILE', 'secret');
  const chosen = token ?? agentSecret ?? attach;
  if (chosen === undefined) {
    throw new RelayError(
      'CONFIG_INVALID',
      'no relay credential for the agent: give --token-file or DBGRELAY_TOKEN[_FILE], --agent-secret-file or DBGRELAY_AGENT_SECRET[_FILE], ' +
        'a secret@ in the relay URL, or the relay secret as --secret-file or DBGRELAY_SECRET[_FILE]',
    );
  }
  return chosen;
}

/**
 * The relay credential the Python agent would present, in agent-py's order
 * (`credentials.resolve_credentials`): exactly one of `--token-file`,
 * `--agent-secret-file` and a `secret@` in the relay URL; else `DBGRELAY_TOKEN` /
 * `DBGRELAY_TOKEN_FILE` or `DBGRELAY_AGENT_SECRET` / `DBGRELAY_AGENT_SECRET_FILE` (not
 * both); else the attach secret (`--secret-file`, `DBGRELAY_SECRET`,
 * `DBGRELAY_SECRET_FILE`), which then is the relay credential. When the agent would
 * have none or conflicting ones, or a file cannot be read, the `CONFIG_INVALID`
 * problem instead of a throw: the other checks still run.
 */
export function agentRelayCredential(flags: AgentCredentialFlags, env: NodeJS.ProcessEnv): AgentCredentialChoice {
  try {
    return { credential: choose(flags, env) };
  } catch (error) {
    if (error instanceof RelayError) return { problem: error };
    throw error;
  }
}
