import { resolve } from 'node:path';
import type { Command } from 'commander';
import { printable } from '../common/printable.js';
import { RelayError } from '../common/relayError.js';
import { deleteClientContext, setClientContext, useClientContext } from '../config/clientConfigEdit.js';
import { clientConfigEnvironmentVariable, readClientConfig } from '../config/clientConfigFile.js';
import type { ClientContext } from '../config/clientConfigSchema.js';
import { parseRelayEndpoint } from '../dial/relayEndpoint.js';
import { pinTrust } from '../dial/tlsTrust.js';
import { contextEnvironmentVariable } from './clientContext.js';

/** Flags of `dbgrelay config set-context`, as commander parses them. */
interface SetContextFlagValues {
  readonly relay?: string;
  readonly ca?: string;
  readonly fingerprint?: string[];
  readonly secretFile?: string;
  readonly secretEnv?: string;
  readonly tokenFile?: string;
  readonly tokenEnv?: string;
  readonly cert?: string;
  readonly key?: string;
}

const configHelp = [
  '',
  'The client config file keeps named contexts, like kubeconfig: for each, the relay URL,',
  'its trust (ca or fingerprints) and where the credential comes from (a file or the name',
  'of an environment variable; never the secret or token itself). dbgrelay attach, targets',
  `and doctor use the context named by --context, else ${contextEnvironmentVariable}, else current-context;`,
  'flags and environment variables override its values.',
  '',
  `File: $${clientConfigEnvironmentVariable}, else $XDG_CONFIG_HOME/dbgrelay/config.yaml, else`,
  '~/.config/dbgrelay/config.yaml (written with mode 0600).',
  '',
  'Example:',
  '  dbgrelay config set-context prod --relay wss://relay.example.com --ca ~/prod-ca.pem --token-file ~/.prod-token',
  '  dbgrelay config use-context prod',
  '  dbgrelay targets',
].join('\n');

function repeatable(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The context fields of the flags, with file paths made absolute against the working directory. */
export function contextFieldsOf(flags: SetContextFlagValues, cwd: string = process.cwd()): ClientContext {
  const path = (file: string | undefined): string | undefined => (file === undefined ? undefined : resolve(cwd, file));
  const fields: Record<string, unknown> = {
    relay: flags.relay,
    ca: path(flags.ca),
    fingerprints: flags.fingerprint,
    'secret-file': path(flags.secretFile),
    'secret-env': flags.secretEnv,
    'token-file': path(flags.tokenFile),
    'token-env': flags.tokenEnv,
    cert: path(flags.cert),
    key: path(flags.key),
  };
  for (const [key, value] of Object.entries(fields)) if (value === undefined) delete fields[key];
  if (Object.keys(fields).length === 0)
    throw new RelayError('BAD_REQUEST', 'give at least one of --relay, --ca, --fingerprint, --secret-file, --secret-env, --token-file, --token-env, --cert, --key');
  return fields as ClientContext;
}

/** The credential source of a context, for the listing (a path or a variable name, never a value). */
function credentialOf(context: ClientContext): string {
  for (const key of ['secret-file', 'secret-env', 'token-file', 'token-env'] as const) if (context[key] !== undefined) return `${key} ${context[key]}`;
  return context.cert !== undefined ? `cert ${context.cert}` : '-';
}

/** The contexts as an aligned table: CURRENT (`*`), NAME, RELAY, TRUST, CREDENTIAL. */
export function formatContextsTable(contexts: Readonly<Record<string, ClientContext>>, current: string | undefined): string {
  const rows = [['CURRENT', 'NAME', 'RELAY', 'TRUST', 'CREDENTIAL']];
  for (const [name, context] of Object.entries(contexts)) {
    const trust = context.ca !== undefined ? `ca ${context.ca}` : context.fingerprints !== undefined ? `${context.fingerprints.length} fingerprint(s)` : '-';
    rows.push([name === current ? '*' : '', name, context.relay ?? '-', trust, credentialOf(context)].map(printable));
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

/** Registers `dbgrelay config`: the client config file's contexts (list, show, set, use, delete). */
export function registerConfigCommand(program: Command): void {
  const config = program
    .command('config')
    .description('named contexts (relay, trust, credential source) for the client commands, like kubeconfig')
    .addHelpText('after', configHelp);
  config
    .command('get-contexts')
    .description('list the contexts, * marking the current one')
    .option('-o, --output <format>', 'table, or name (one name a line, for scripts and shell completion)', 'table')
    .action((flags: { output: string }) => {
      if (flags.output !== 'table' && flags.output !== 'name') throw new RelayError('BAD_REQUEST', `--output: expected table or name, not "${printable(flags.output)}"`);
      const file = readClientConfig(process.env);
      const names = Object.keys(file.config.contexts);
      if (flags.output === 'name') process.stdout.write(names.map((name) => `${name}\n`).join(''));
      else if (names.length === 0) process.stderr.write(`dbgrelay config: no contexts in ${file.path}; add one with dbgrelay config set-context NAME --relay URL ...\n`);
      else process.stdout.write(formatContextsTable(file.config.contexts, file.config['current-context']));
    });
  config
    .command('current-context')
    .description('print the name of the current context')
    .action(() => {
      const file = readClientConfig(process.env);
      const current = file.config['current-context'];
      if (current === undefined) throw new RelayError('CONFIG_INVALID', `no current context in ${file.path}; choose one with dbgrelay config use-context NAME`);
      process.stdout.write(`${current}\n`);
    });
  config
    .command('use-context')
    .description('make NAME the current context')
    .argument('<name>', 'a context listed by dbgrelay config get-contexts')
    .action((name: string) => {
      const path = useClientContext(process.env, name);
      process.stdout.write(`dbgrelay config: switched to context "${name}" (${path})\n`);
    });
  config
    .command('set-context')
    .description('create or update the context NAME (only the values given change; a trust or credential source replaces the previous one)')
    .argument('<name>', 'context name: letters, digits, ., _ and -')
    .option('--relay <url>', 'relay URL, wss://host[:port][/path] or tcps://host[:port] (no secret in it)')
    .option('--ca <file>', "PEM file with the CA that signed the relay's certificate")
    .option('--fingerprint <sha256>', "trust the relay's certificate (or its CA) by its sha256: fingerprint; repeatable", repeatable)
    .option('--secret-file <file>', "file holding the relay secret or the target's attach secret")
    .option('--secret-env <variable>', 'environment variable holding the secret')
    .option('--token-file <file>', 'file holding a bearer token (read again for every session)')
    .option('--token-env <variable>', 'environment variable holding a bearer token')
    .option('--cert <file>', 'client certificate (PEM) for a relay that asks for one')
    .option('--key <file>', 'private key (PEM) of --cert')
    .action((name: string, flags: SetContextFlagValues) => {
      // Checked as the client commands will read them, so a typo fails now rather than at the next attach.
      if (flags.relay !== undefined) parseRelayEndpoint(flags.relay);
      if (flags.fingerprint !== undefined) pinTrust(flags.fingerprint);
      const path = setClientContext(process.env, name, contextFieldsOf(flags));
      const current = readClientConfig(process.env).config['current-context'];
      const hint = current === name ? '' : `; make it current with dbgrelay config use-context ${name}`;
      process.stdout.write(`dbgrelay config: context "${name}" saved in ${path}${hint}\n`);
    });
  config
    .command('delete-context')
    .description('remove the context NAME')
    .argument('<name>', 'a context listed by dbgrelay config get-contexts')
    .action((name: string) => {
      const path = deleteClientContext(process.env, name);
      process.stdout.write(`dbgrelay config: context "${name}" deleted from ${path}\n`);
    });
}
