import type { ClientRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { createConnection } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Credential } from '../auth/principal.js';
import { RelayError } from '../common/relayError.js';
import type { ClientIdentity } from './clientIdentity.js';
import { proxyForRelay } from './httpsProxy.js';
import { apiBasePath, type RelayEndpoint } from './relayEndpoint.js';
import { connectVerifiedTls, formatAddress } from './tlsConnect.js';
import type { TlsTrust } from './tlsTrust.js';

// What every exchange with a relay shares (sessions, the attach check, the target
// list, doctor's agent check): its options, the credential in each form the protocol
// carries it, one deadline for the whole exchange, the verified TLS connection, and one
// bounded HTTPS GET.

/** Default bound on dialing: longer than the relay's 10 s agent-open timeout, so its refusal arrives first. */
export const defaultDialTimeoutMs = 15_000;
/** Bound on an HTTP error body. */
export const maxBodyBytes = 1024 * 1024;

/** How to reach and authenticate to a relay. */
export interface RelayDialOptions {
  readonly endpoint: RelayEndpoint;
  readonly trust: TlsTrust;
  /** Client certificate and key, for relays that ask for one (mTLS). */
  readonly identity?: ClientIdentity;
  /** The relay secret; defaults to the one in the endpoint URL. Never put in a message. */
  readonly secret?: string;
  /** A bearer token (JWT); when set it is the credential and no secret is sent. Never put in a message. */
  readonly token?: string;
  /** Bound on the whole dial (TLS, upgrade or hello, relay's agent open). */
  readonly timeoutMs?: number;
  /** Where `HTTPS_PROXY`/`NO_PROXY` are read from (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
}

/** The credential to present: the token if there is one, else the secret (option, then URL). */
export function credentialOf(options: RelayDialOptions): Credential | undefined {
  if (options.token !== undefined) return { kind: 'bearer', token: options.token };
  const secret = options.secret ?? options.endpoint.secret;
  return secret === undefined ? undefined : { kind: 'secret', secret };
}

/** The text to redact from relay messages shown to the user. */
export function credentialText(credential: Credential | undefined): string | undefined {
  return credential?.kind === 'bearer' ? credential.token : credential?.secret;
}

/** Hello-line fields carrying the credential (docs/protocol.md §4). */
export function helloCredential(credential: Credential | undefined): { secret?: string; token?: string } {
  if (credential === undefined) return {};
  return credential.kind === 'bearer' ? { token: credential.token } : { secret: credential.secret };
}

export function authorization(credential: Credential | undefined): Record<string, string> {
  // docs/protocol.md §2: a JWT as a Bearer token (RFC 6750 §2.1).
  if (credential?.kind === 'bearer') return { Authorization: `Bearer ${credential.token}` };
  const secret = credential?.secret;
  // docs/protocol.md §2: the secret as the user name, empty password (RFC 7617).
  // A user name cannot contain ':' (RFC 7617 §2): the relay would cut the secret there.
  if (secret?.includes(':')) throw new RelayError('BAD_REQUEST', 'the relay secret contains ":", which HTTP Basic authentication cannot carry; use tcps:// or another secret');
  return secret === undefined ? {} : { Authorization: `Basic ${Buffer.from(`${secret}:`, 'utf8').toString('base64')}` };
}

export function deadlineOf(options: RelayDialOptions): () => number {
  const deadline = Date.now() + (options.timeoutMs ?? defaultDialTimeoutMs);
  return () => Math.max(1, deadline - Date.now());
}

/**
 * Ends `req` with `RELAY_UNREACHABLE` unless it is over within `ms`: a deadline for the
 * whole exchange. (The request's own `timeout` option is not applied to a socket given
 * by `createConnection`, and would only bound idle time.)
 */
export function answerWithin(req: ClientRequest, ms: number, where: string): void {
  const timer = setTimeout(() => req.destroy(new RelayError('RELAY_UNREACHABLE', `the relay at ${where} did not answer within the timeout`)), ms);
  req.once('close', () => clearTimeout(timer));
}

export function readBody(res: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) res.destroy(new RelayError('MESSAGE_TOO_LARGE', `relay response body exceeds ${limit} bytes`));
      else chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('aborted', () => reject(new RelayError('RELAY_UNREACHABLE', 'relay response was cut short')));
  });
}

/** A verified TLS connection to the relay, through the `HTTPS_PROXY` proxy unless `NO_PROXY` says otherwise. */
export function connectRelay(options: RelayDialOptions, remaining: () => number): Promise<TLSSocket> {
  const { endpoint } = options;
  const proxy = proxyForRelay(endpoint.host, endpoint.port, options.env ?? process.env);
  return connectVerifiedTls(endpoint, options.trust, remaining(), options.identity, proxy);
}

/** Hands an already verified socket to `http`/`ws` in place of their own connect. */
export function useSocket(socket: TLSSocket): typeof createConnection {
  return (() => socket) as unknown as typeof createConnection;
}

/** A relay's answer to one HTTPS `GET`: its status and body. */
export interface RelayAnswer {
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly body: string;
}

/**
 * `GET <base><path>` on a connection of its own to the relay, with `headers`; the whole
 * exchange within `remaining()` and a body of at most `maxBytes`. Rejects with
 * `RELAY_UNREACHABLE` (or the dial's error) when no answer comes.
 */
export async function getFromRelay(options: RelayDialOptions, remaining: () => number, path: string, headers: Record<string, string>, maxBytes: number): Promise<RelayAnswer> {
  const { endpoint } = options;
  const where = formatAddress(endpoint);
  const socket = await connectRelay(options, remaining);
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ createConnection: () => socket, host: endpoint.host, port: endpoint.port, path: `${apiBasePath(endpoint)}${path}`, method: 'GET', headers });
    answerWithin(req, remaining(), where);
    req.on('error', (error) =>
      reject(error instanceof RelayError ? error : new RelayError('RELAY_UNREACHABLE', `request to the relay at ${where} failed: ${error.message}`, { cause: error })),
    );
    req.on('response', (res) => {
      readBody(res, maxBytes)
        .then((body) => resolve({ statusCode: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', body }), reject)
        .finally(() => socket.destroy());
    });
    req.end();
  });
}
