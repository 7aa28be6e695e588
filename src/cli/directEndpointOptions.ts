import { readFileSync } from 'node:fs';
import { RelayError } from '../common/relayError.js';
import { defaultDirectEndpointPort } from '../dial/directEndpointDialer.js';
import { hostForUrl, parseRelayEndpoint, type RelayEndpoint } from '../dial/relayEndpoint.js';
import { caTrust, pinTrust, systemTrust, type TlsTrust } from '../dial/tlsTrust.js';
import type { ClientConnection, ClientFlagValues } from './clientOptions.js';

/** True when `dbgrelay attach`'s target argument is an endpoint URL (`scheme://...`) rather than a target name. */
export function isEndpointUrl(target: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(target.trim());
}

function readFile(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new RelayError('CONFIG_INVALID', `${flag}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** `tcps://[SECRET@]host[:port]`, with ptvsd's port 5678 when none is written. */
function parseEndpointUrl(url: string): RelayEndpoint {
  let endpoint: RelayEndpoint;
  try {
    endpoint = parseRelayEndpoint(url);
  } catch (error) {
    throw error instanceof RelayError ? new RelayError(error.code, error.message.replace('relay URL', 'endpoint URL')) : error;
  }
  if (endpoint.scheme !== 'tcps') {
    throw new RelayError('CONFIG_INVALID', `a direct debug endpoint URL is tcps://[SECRET@]host[:port], not ${endpoint.scheme}://`);
  }
  if (/:\d+\/?$/.test(url.trim())) return endpoint;
  const port = defaultDirectEndpointPort;
  return { ...endpoint, port, display: `tcps://${hostForUrl(endpoint.host)}:${port}` };
}

/**
 * What `dbgrelay attach tcps://[SECRET@]host[:port]` needs to dial a direct endpoint
 * (agent-py `enable_attach(secret, address=...)`). The secret comes from the URL,
 * else `--secret-file`, else `DBGRELAY_SECRET` (never the development relay's secret
 * file, which must not go to another host); trust from `--ca` or `--fingerprint`, else
 * the system store. `--relay` and tokens do not apply (`CONFIG_INVALID`).
 */
export function resolveDirectConnection(url: string, values: ClientFlagValues & { readonly takeover?: boolean }, env: NodeJS.ProcessEnv = process.env): ClientConnection {
  const notes: string[] = [];
  if (values.relay !== undefined) throw new RelayError('CONFIG_INVALID', 'the target is an endpoint URL, which is dialed directly: --relay does not apply');
  if (values.tokenFile !== undefined) throw new RelayError('CONFIG_INVALID', 'a direct debug endpoint takes a secret, not a token (--token-file)');
  if (values.takeover) throw new RelayError('CONFIG_INVALID', '--takeover applies to targets of a relay, not to a direct debug endpoint');
  if (values.ca !== undefined && values.fingerprint !== undefined) throw new RelayError('CONFIG_INVALID', 'give either --ca or --fingerprint, not both');
  const endpoint = parseEndpointUrl(url);
  let trust: TlsTrust = systemTrust;
  if (values.ca !== undefined) trust = caTrust(readFile(values.ca, '--ca'), values.ca);
  else if (values.fingerprint !== undefined) trust = pinTrust(values.fingerprint);

  let secret: string | undefined;
  if (endpoint.secret !== undefined) {
    if (values.secretFile !== undefined) throw new RelayError('CONFIG_INVALID', 'give the secret either in the endpoint URL or with --secret-file, not both');
    secret = endpoint.secret;
    notes.push('warning: a secret in the endpoint URL is visible to other local users in the process list (ps); prefer --secret-file or DBGRELAY_SECRET');
  } else if (values.secretFile !== undefined) {
    secret = readFile(values.secretFile, '--secret-file').trim();
    if (secret === '') throw new RelayError('CONFIG_INVALID', `--secret-file: ${values.secretFile} is empty`);
  } else if (env['DBGRELAY_SECRET']) secret = env['DBGRELAY_SECRET'];
  else notes.push('warning: no secret given (in the URL, --secret-file or DBGRELAY_SECRET); the endpoint will refuse with AUTH_REQUIRED');
  const { secret: _inUrl, ...withoutSecret } = endpoint;
  return { endpoint: withoutSecret, trust, notes, ...(secret !== undefined ? { secret } : {}) };
}
