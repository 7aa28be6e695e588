import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { isLoopbackHost } from '../common/loopbackHost.js';
import { RelayError } from '../common/relayError.js';
import { defaultDataDir } from '../config/configDefaults.js';
import { parseRelayEndpoint, type RelayEndpoint } from '../dial/relayEndpoint.js';
import { proxyForRelay } from '../dial/httpsProxy.js';
import { caTrust, pinTrust, systemTrust, type TlsTrust } from '../dial/tlsTrust.js';
import { applyClientContext, contextEnvironmentVariable } from './clientContext.js';
import type { ClientFlagValues } from './clientFlagValues.js';
import { resolveClientToken } from './clientToken.js';

/** Relay URL used when neither `--relay`, `DBGRELAY_RELAY` nor a context gives one: the dev daemon's wss listener. */
export const defaultRelayUrl = 'wss://127.0.0.1:7443';

export type { ClientFlagValues } from './clientFlagValues.js';

/** Everything a client command needs to reach the relay; `notes` say which defaults were used. */
export interface ClientConnection {
  readonly endpoint: RelayEndpoint;
  readonly trust: TlsTrust;
  readonly secret?: string;
  /** The bearer token to present instead of a secret (a function: see {@link resolveClientToken}). */
  readonly token?: () => string;
  /** `--cert` and `--key` after the context filled them in (for {@link resolveClientIdentity}); undefined for a direct endpoint. */
  readonly identityFiles?: { readonly cert?: string; readonly key?: string };
  /** Where the credential came from when the client context gave it (see {@link applyClientContext}). */
  readonly contextCredential?: string;
  /** With `credential: 'optional'`: why there is no credential (the `CONFIG_INVALID` it would have thrown). */
  readonly missingCredential?: RelayError;
  readonly notes: readonly string[];
}

/** How {@link resolveClientConnection} treats what `dbgrelay doctor` reports as failed checks instead. */
export interface ResolveLeniency {
  /** `optional`: a remote relay without a credential gives `missingCredential`; `ignored`: no credential is resolved (the caller brings its own). */
  readonly credential?: 'required' | 'optional' | 'ignored';
  /** True: a malformed `HTTPS_PROXY` is left to the caller's own check (the local relay's secret is then not used). */
  readonly proxyUnchecked?: boolean;
}

/**
 * The client's data directory, where a development relay on the same machine keeps
 * `ca.pem` and `secret`: `DBGRELAY_DATA_DIR`, else `$XDG_STATE_HOME/dbgrelay`, else
 * `~/.local/state/dbgrelay`.
 */
export function clientDataDir(env: NodeJS.ProcessEnv): string {
  return env['DBGRELAY_DATA_DIR'] || defaultDataDir(env);
}

/** Adds `--context`, `--relay`, `--ca`, `--fingerprint`, `--secret-file` and `--token-file` to a command, with help on the defaults. */
export function addClientOptions(command: Command): Command {
  return command
    .option(
      '--context <name>',
      `the named context of the client config file to use (dbgrelay config get-contexts; env ${contextEnvironmentVariable}; default its current-context); flags and environment variables override its values`,
    )
    .option(
      '--relay <url>',
      `relay URL, wss://[SECRET@]host[:port][/path] or tcps://[SECRET@]host[:port] (env DBGRELAY_RELAY; default ${defaultRelayUrl}); ` +
        "SECRET is the relay secret or the target's attach secret, percent-encoded; a secret in argv is visible to other local users, prefer DBGRELAY_RELAY or --secret-file",
    )
    .addOption(new Option('--ca <file>', "PEM file with the CA that signed the relay's certificate").conflicts('fingerprint'))
    .option(
      '--fingerprint <sha256>',
      "trust a certificate of the relay's chain (server or its CA) by its sha256: fingerprint; repeatable",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--secret-file <file>', "file holding the relay secret or the target's attach secret (else env DBGRELAY_SECRET); never pass a secret in argv")
    .option(
      '--token-file <file>',
      'file holding a bearer token (JWT, e.g. from `dbgrelay token issue`), read again for every session (else env DBGRELAY_TOKEN); replaces the secret',
    )
    .addHelpText(
      'after',
      [
        '',
        'Precedence: flags, then environment variables, then the context (dbgrelay config), then these',
        'development defaults (a relay started with `dbgrelay serve` on this machine):',
        '  without --ca/--fingerprint, <dataDir>/ca.pem is trusted if it exists, else the system trust store;',
        '  without --secret-file/DBGRELAY_SECRET/a secret@ in the URL/a token, <dataDir>/secret is used if it exists',
        '  and the relay is on this machine (a loopback address, no proxy); a relay elsewhere needs a credential.',
        '  <dataDir> is $DBGRELAY_DATA_DIR, else $XDG_STATE_HOME/dbgrelay, else ~/.local/state/dbgrelay.',
      ].join('\n'),
    );
}

function readSecretFile(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new RelayError('CONFIG_INVALID', `${what}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const secret = text.trim();
  if (secret === '') throw new RelayError('CONFIG_INVALID', `${what}: ${file} is empty`);
  return secret;
}

/** The sources of a credential, for the error a remote relay with none gets. */
const credentialSources =
  "--secret-file FILE or DBGRELAY_SECRET (the relay secret or the target's attach secret), a SECRET@ in DBGRELAY_RELAY, " +
  '--token-file FILE or DBGRELAY_TOKEN (a bearer token), or --cert/--key (a client certificate, if the relay accepts one)';

function readCaFile(file: string): TlsTrust {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new RelayError('CONFIG_INVALID', `--ca: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return caTrust(pem, file);
}

/**
 * Resolves the relay endpoint, the trust and the secret from flags, environment, the
 * client context ({@link applyClientContext}: it fills in only what flags and variables
 * leave out, and its notes come first) and development defaults. A token (`--token-file`, else `DBGRELAY_TOKEN`) replaces
 * the secret; a token with an explicit secret is `CONFIG_INVALID`. Secret order: `--secret-file`, the URL's `secret@` (the relay
 * secret or the target's attach secret; both `--secret-file` and a URL secret is
 * `CONFIG_INVALID`), `DBGRELAY_SECRET`, `<dataDir>/secret`. The last (the local relay's own
 * secret) is sent only to a relay on a loopback address reached without a proxy: a relay
 * elsewhere with no credential at all (and no `cert`) is `CONFIG_INVALID`, naming the
 * flags and variables that give one. Trust order: `--ca`, `--fingerprint`,
 * `<dataDir>/ca.pem`, the system store. Throws `CONFIG_INVALID` or `BAD_REQUEST`;
 * no message quotes a secret. `leniency` (for `dbgrelay doctor`) turns a missing
 * credential and a malformed proxy into what the caller reports.
 */
export function resolveClientConnection(flags: ClientFlagValues, environment: NodeJS.ProcessEnv = process.env, leniency: ResolveLeniency = {}): ClientConnection {
  const { values, env, notes: contextNotes, credential } = applyClientContext(flags, environment);
  const notes: string[] = [...contextNotes];
  const identityFiles = { ...(values.cert !== undefined ? { cert: values.cert } : {}), ...(values.key !== undefined ? { key: values.key } : {}) };
  const fromContext = { identityFiles, ...(credential !== undefined ? { contextCredential: credential } : {}) };
  const endpoint = parseRelayEndpoint(values.relay ?? env['DBGRELAY_RELAY'] ?? defaultRelayUrl);
  const dataDir = clientDataDir(env);
  let proxy: ReturnType<typeof proxyForRelay>;
  let proxyMalformed = false;
  try {
    proxy = proxyForRelay(endpoint.host, endpoint.port, env); // a bad HTTPS_PROXY fails here, before any session
  } catch (error) {
    if (!leniency.proxyUnchecked) throw error;
    proxyMalformed = true;
  }
  if (proxy) notes.push(`reaching the relay through the proxy ${proxy.display} (${proxy.source}; NO_PROXY does not match ${endpoint.host})`);

  if (values.ca !== undefined && values.fingerprint !== undefined) {
    throw new RelayError('CONFIG_INVALID', 'give either --ca or --fingerprint, not both');
  }
  let trust: TlsTrust;
  if (values.ca !== undefined) trust = readCaFile(values.ca);
  else if (values.fingerprint !== undefined) trust = pinTrust(values.fingerprint);
  else if (existsSync(join(dataDir, 'ca.pem'))) {
    trust = readCaFile(join(dataDir, 'ca.pem'));
    notes.push(`trusting the development CA ${join(dataDir, 'ca.pem')} (no --ca or --fingerprint given)`);
  } else trust = systemTrust;

  if (leniency.credential === 'ignored') return { endpoint, trust, notes, ...fromContext };
  const token = resolveClientToken(values.tokenFile, env);
  if (token !== undefined) {
    if (values.secretFile !== undefined || endpoint.secret !== undefined) {
      throw new RelayError('CONFIG_INVALID', 'give either a token (--token-file, DBGRELAY_TOKEN) or a secret (--secret-file, a secret@ in the URL), not both');
    }
    return { endpoint, trust, notes, token, ...fromContext };
  }
  let secret: string | undefined;
  if (values.secretFile !== undefined && endpoint.secret !== undefined) {
    throw new RelayError('CONFIG_INVALID', 'give the secret either in the relay URL or with --secret-file, not both');
  }
  if (values.secretFile !== undefined) secret = readSecretFile(values.secretFile, '--secret-file');
  else if (endpoint.secret !== undefined) {
    // The URL is the most specific source (e.g. a target's attach secret), so it wins over the environment.
    secret = endpoint.secret;
    if (values.relay !== undefined) {
      notes.push('warning: a secret in --relay is visible to other local users in the process list (ps); prefer --secret-file or DBGRELAY_SECRET');
    }
  } else if (env['DBGRELAY_SECRET']) secret = env['DBGRELAY_SECRET'];
  else if (!isLoopbackHost(endpoint.host) || proxy !== undefined || proxyMalformed) {
    // The local data directory's secret belongs to the relay on this machine; never hand it to another host (or a proxy's "localhost").
    if (values.cert === undefined) {
      const where = proxy !== undefined ? `through the proxy ${proxy.display}` : proxyMalformed ? 'through a proxy' : 'not on this machine';
      const missing = new RelayError(
        'CONFIG_INVALID',
        `no credential for the relay at ${endpoint.display} (${where}): give ${credentialSources}; ${join(dataDir, 'secret')} is used only for a relay on a loopback address`,
      );
      if (leniency.credential !== 'optional') throw missing;
      return { endpoint, trust, notes, ...fromContext, missingCredential: missing };
    }
    notes.push('no secret or token given: the client certificate (--cert) is the only credential');
  } else if (existsSync(join(dataDir, 'secret'))) {
    secret = readSecretFile(join(dataDir, 'secret'), 'secret');
    notes.push(`using the relay secret from ${join(dataDir, 'secret')} (no --secret-file or DBGRELAY_SECRET given)`);
  } else {
    notes.push('warning: no relay secret given (--secret-file or DBGRELAY_SECRET); the relay will refuse with AUTH_REQUIRED');
  }
  return { endpoint, trust, notes, ...fromContext, ...(secret !== undefined ? { secret } : {}) };
}
