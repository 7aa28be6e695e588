import type { Command } from 'commander';
import { loadClientIdentity, type ClientIdentity } from '../dial/clientIdentity.js';
import { RelayError } from '../common/relayError.js';

/** `--cert` and `--key`, as commander parses them. */
export interface ClientIdentityFlagValues {
  readonly cert?: string;
  readonly key?: string;
}

/** Adds `--cert FILE --key FILE` (a client certificate for relays that ask for one) to a command. */
export function addClientIdentityOptions(command: Command): Command {
  return command
    .option('--cert <file>', 'client certificate (PEM) to present when the relay asks for one (mTLS); e.g. from `dbgrelay certs client NAME`')
    .option('--key <file>', 'private key (PEM) of --cert');
}

/** The client certificate of `--cert`/`--key`, or undefined when neither is given. Throws `CONFIG_INVALID`. */
export function resolveClientIdentity(values: ClientIdentityFlagValues): ClientIdentity | undefined {
  if (values.cert === undefined && values.key === undefined) return undefined;
  if (values.cert === undefined || values.key === undefined) throw new RelayError('CONFIG_INVALID', 'give both --cert and --key, or neither');
  return loadClientIdentity(values.cert, values.key);
}
