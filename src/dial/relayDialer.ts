import type { ClientRequest, IncomingMessage } from 'node:http';
import { prefetchHeader } from '../protocol/prefetch.js';
import { request as httpsRequest } from 'node:https';
import type { createConnection } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import type { Credential } from '../auth/principal.js';
import { parseBoundedJson } from '../common/jsonDepth.js';
import { RelayError } from '../common/relayError.js';
import { helloReply, maxHelloBytes, maxTargetsPage, maxTargetsReplyBytes, protocolVersion, targetInfo, type TargetInfo } from '../protocol/controlMessages.js';
import { isValidTargetName } from '../protocol/targetName.js';
import { LivenessTransport } from '../liveness/livenessTransport.js';
import { startWebSocketHeartbeat } from '../liveness/webSocketHeartbeat.js';
import { SocketTransport } from '../transport/socketTransport.js';
import type { Transport } from '../transport/transport.js';
import { WebSocketTransport } from '../transport/webSocketTransport.js';
import type { ClientIdentity } from './clientIdentity.js';
import { apiBasePath, hostForUrl, ptvsdBasePath, type RelayEndpoint } from './relayEndpoint.js';
import { httpRefusalError } from './relayRefusal.js';
import { proxyForRelay } from './httpsProxy.js';
import { exchangeHello } from './tcpsHello.js';
import { connectVerifiedTls, formatAddress } from './tlsConnect.js';
import type { TlsTrust } from './tlsTrust.js';
import { upgradeWithin } from './upgradeDeadline.js';

/** Default bound on dialing: longer than the relay's 10 s agent-open timeout, so its refusal arrives first. */
export const defaultDialTimeoutMs = 15_000;
/** Bound on an HTTP error body. */
const maxBodyBytes = 1024 * 1024;

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

/** Options of {@link dialSession}. */
export interface DialSessionOptions extends RelayDialOptions {
  /**
   * The target; may be left out only with a `wss://…/ptvsd` endpoint, whose sessions go
   * to the relay's default target (`ptvsd.defaultTarget`).
   */
  readonly target?: string | undefined;
  /**
   * Ask the relay to take the target over from its current holder (docs/protocol.md
   * §6; needs the admin grant, else the relay answers `AUTH_FAILED`).
   */
  readonly takeover?: boolean;
  /**
   * Liveness of the session connection (docs/protocol.md §6): over wss the client pings
   * the relay this often; over tcps it promises a `dbgrelay.heartbeat` event this often
   * (sent by the owner of the DAP pipe, see {@link LivenessTransport.heartbeatMs}).
   * Either way a relay silent for several intervals is taken as gone. Default
   * {@link defaultSessionHeartbeatMs}; 0 turns it off.
   */
  readonly heartbeatMs?: number;
  /**
   * The client uses answers sent ahead on each stop (docs/protocol.md §6, revision
   * 1.13): the upgrade carries `X-Dbgrelay-Prefetch: 1`, the hello `"prefetch": true`.
   */
  readonly prefetch?: boolean;
}

/** How often a client proves it is alive on a session connection, unless told otherwise. */
export const defaultSessionHeartbeatMs = 15_000;

/** Silence (in heartbeat intervals) after which a client takes the relay as gone over wss. */
const wssSilentIntervals = 4;

/** Header by which an attach upgrade asks for a takeover (docs/protocol.md §3, §6). */
const takeoverHeader = 'X-Dbgrelay-Takeover';

/** The credential to present: the token if there is one, else the secret (option, then URL). */
function credentialOf(options: RelayDialOptions): Credential | undefined {
  if (options.token !== undefined) return { kind: 'bearer', token: options.token };
  const secret = options.secret ?? options.endpoint.secret;
  return secret === undefined ? undefined : { kind: 'secret', secret };
}

/** The text to redact from relay messages shown to the user. */
function credentialText(credential: Credential | undefined): string | undefined {
  return credential?.kind === 'bearer' ? credential.token : credential?.secret;
}

/** Hello-line fields carrying the credential (docs/protocol.md §4). */
function helloCredential(credential: Credential | undefined): { secret?: string; token?: string } {
  if (credential === undefined) return {};
  return credential.kind === 'bearer' ? { token: credential.token } : { secret: credential.secret };
}

function authorization(credential: Credential | undefined): Record<string, string> {
  // docs/protocol.md §2: a JWT as a Bearer token (RFC 6750 §2.1).
  if (credential?.kind === 'bearer') return { Authorization: `Bearer ${credential.token}` };
  const secret = credential?.secret;
  // docs/protocol.md §2: the secret as the user name, empty password (RFC 7617).
  // A user name cannot contain ':' (RFC 7617 §2): the relay would cut the secret there.
  if (secret?.includes(':')) throw new RelayError('BAD_REQUEST', 'the relay secret contains ":", which HTTP Basic authentication cannot carry; use tcps:// or another secret');
  return secret === undefined ? {} : { Authorization: `Basic ${Buffer.from(`${secret}:`, 'utf8').toString('base64')}` };
}

function deadlineOf(options: RelayDialOptions): () => number {
  const deadline = Date.now() + (options.timeoutMs ?? defaultDialTimeoutMs);
  return () => Math.max(1, deadline - Date.now());
}

/**
 * Ends `req` with `RELAY_UNREACHABLE` unless it is over within `ms`: a deadline for the
 * whole exchange. (The request's own `timeout` option is not applied to a socket given
 * by `createConnection`, and would only bound idle time.)
 */
function answerWithin(req: ClientRequest, ms: number, where: string): void {
  const timer = setTimeout(() => req.destroy(new RelayError('RELAY_UNREACHABLE', `the relay at ${where} did not answer within the timeout`)), ms);
  req.once('close', () => clearTimeout(timer));
}

function readBody(res: IncomingMessage, limit: number): Promise<string> {
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
function connectRelay(options: RelayDialOptions, remaining: () => number): Promise<TLSSocket> {
  const { endpoint } = options;
  const proxy = proxyForRelay(endpoint.host, endpoint.port, options.env ?? process.env);
  return connectVerifiedTls(endpoint, options.trust, remaining(), options.identity, proxy);
}

/** Hands an already verified socket to `http`/`ws` in place of their own connect. */
function useSocket(socket: TLSSocket): typeof createConnection {
  return (() => socket) as unknown as typeof createConnection;
}

async function dialWebSocket(options: DialSessionOptions, credential: Credential | undefined, remaining: () => number): Promise<Transport> {
  const { endpoint } = options;
  const where = formatAddress(endpoint);
  const headers = { ...authorization(credential), ...(options.takeover ? { [takeoverHeader]: '1' } : {}), ...(options.prefetch ? { [prefetchHeader]: '1' } : {}) };
  const secret = credentialText(credential);
  const socket = await connectRelay(options, remaining);
  const path = options.target === undefined ? endpoint.basePath : `${apiBasePath(endpoint)}/v1/attach/${encodeURIComponent(options.target)}`;
  const url = `wss://${hostForUrl(endpoint.host)}:${endpoint.port}${path}`;
  return new Promise<Transport>((resolve, reject) => {
    const ws = new WebSocket(url, {
      createConnection: useSocket(socket),
      headers,
      handshakeTimeout: remaining(),
      perMessageDeflate: false,
      followRedirects: false,
    });
    upgradeWithin(ws, socket, remaining(), () => reject(new RelayError('RELAY_UNREACHABLE', `the relay at ${where} did not answer the WebSocket upgrade within the timeout`)));
    const onError = (error: Error): void => {
      socket.destroy();
      reject(new RelayError('RELAY_UNREACHABLE', `WebSocket handshake with the relay at ${where} failed: ${error.message}`, { cause: error }));
    };
    ws.once('open', () => {
      ws.off('error', onError);
      const transport = new WebSocketTransport(ws, where);
      const heartbeatMs = options.heartbeatMs ?? defaultSessionHeartbeatMs;
      if (heartbeatMs > 0) startWebSocketHeartbeat(transport, heartbeatMs, wssSilentIntervals * heartbeatMs);
      resolve(transport);
    });
    ws.once('unexpected-response', (req, res) => {
      readBody(res, maxBodyBytes)
        .then(
          (body) => reject(httpRefusalError(res.statusCode ?? 0, res.statusMessage ?? '', body, secret)),
          (error: Error) => reject(new RelayError('RELAY_UNREACHABLE', `relay at ${where} refused the upgrade: ${error.message}`)),
        )
        .finally(() => {
          req.destroy();
          socket.destroy();
        });
    });
    ws.on('error', onError);
  });
}

async function dialTcps(options: DialSessionOptions & { target: string }, credential: Credential | undefined, remaining: () => number): Promise<Transport> {
  const socket = await connectRelay(options, remaining);
  const heartbeatMs = options.heartbeatMs ?? defaultSessionHeartbeatMs;
  const hello = {
    dbgrelay: protocolVersion,
    op: 'attach',
    target: options.target,
    ...(options.takeover ? { takeover: true } : {}),
    ...(heartbeatMs > 0 ? { heartbeatMs } : {}),
    ...(options.prefetch ? { prefetch: true } : {}),
    ...helloCredential(credential),
  } as const;
  const accepted = await exchangeHello(socket, hello, { maxReplyBytes: maxHelloBytes, timeoutMs: remaining(), where: formatAddress(options.endpoint) });
  const transport = new SocketTransport(socket, 'tcps', accepted.leftover);
  socket.resume();
  // A relay that answers heartbeats says so; an older one does not, and then no deadline applies.
  const timeoutMs = accepted.heartbeatTimeoutMs;
  if (heartbeatMs > 0 && timeoutMs !== undefined) return new LivenessTransport(transport, timeoutMs, undefined, heartbeatMs);
  return transport;
}

/**
 * Opens one DAP session with `target` through the relay (docs/protocol.md §3, §4, §6):
 * wss upgrades `GET <base>/v1/attach/<target>` (or `GET <base>/ptvsd`, the default
 * target, when the endpoint is a `…/ptvsd` URL and no target is named) with `Authorization: Bearer` (a token)
 * or `Basic` (a secret); tcps
 * sends an `attach` hello. With `takeover`, the upgrade carries `X-Dbgrelay-Takeover: 1`
 * and the hello `"takeover": true`. Resolves once the relay has accepted (the agent's data
 * connection is open); rejects with the relay's code (`AUTH_FAILED`,
 * `UNKNOWN_TARGET`, ...) and a message that never carries the secret, or with
 * `RELAY_UNREACHABLE`, `TLS_PIN_MISMATCH`, `TLS_VERIFY_FAILED`, `TARGET_NAME_INVALID`.
 */
export async function dialSession(options: DialSessionOptions): Promise<Transport> {
  const { target } = options;
  if (target === undefined) {
    if (ptvsdBasePath(options.endpoint) === undefined) {
      throw new RelayError('BAD_REQUEST', "name a target, or use a wss://<secret>@host/ptvsd URL to attach to the relay's default target");
    }
  } else if (!isValidTargetName(target)) {
    throw new RelayError('TARGET_NAME_INVALID', `"${target}" is not a valid target name (letters, digits, ".", "_", "-"; at most 63)`);
  }
  const credential = credentialOf(options);
  const remaining = deadlineOf(options);
  if (options.endpoint.scheme === 'wss') return dialWebSocket(options, credential, remaining);
  return dialTcps({ ...options, target: target! }, credential, remaining);
}

/** The relay's answer to an attach check: admitted (with the target's entry from 1.15), or a relay that cannot answer it. */
export type AttachAdmission = { readonly verdict: 'admitted'; readonly target?: TargetInfo } | { readonly verdict: 'unsupported' };

/** The target's entry in an admitted attach check's body (revision 1.15), when it is well-formed and names `target`. */
function admittedEntry(body: string, target: string): TargetInfo | undefined {
  try {
    const entry = targetInfo.safeParse((parseBoundedJson(body, 'attach check') as { target?: unknown } | null)?.target);
    return entry.success && entry.data.name === target ? entry.data : undefined;
  } catch {
    return undefined;
  }
}

/** Header of an attach check (docs/protocol.md §3, revision 1.14). */
const attachCheckHeader = 'X-Dbgrelay-Check';

/** A relay's answer to one HTTPS `GET`: its status and body. */
interface RelayAnswer {
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly body: string;
}

/**
 * `GET <base><path>` on a connection of its own to the relay, with `headers`; the whole
 * exchange within `remaining()` and a body of at most `maxBytes`. Rejects with
 * `RELAY_UNREACHABLE` (or the dial's error) when no answer comes.
 */
async function getFromRelay(options: RelayDialOptions, remaining: () => number, path: string, headers: Record<string, string>, maxBytes: number): Promise<RelayAnswer> {
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

/**
 * Asks the relay whether a session with `options.target` would be admitted now,
 * opening nothing (docs/protocol.md §3, revision 1.14): `GET <base>/v1/attach/<target>`
 * with `X-Dbgrelay-Check: 1` and the credential, as the attach would send them.
 * Resolves `admitted` (with the target's listing entry from a relay of revision 1.15,
 * when the target is connected to the instance that answered), or `unsupported` for a
 * tcps endpoint or a relay before 1.14 (which answers `BAD_REQUEST`: the path needs an
 * upgrade); rejects with the refusal the session would get (`AUTH_FAILED`,
 * `UNKNOWN_TARGET`, `TARGET_BUSY`, ...) or the dial's errors.
 */
export async function checkAttachAdmission(options: DialSessionOptions & { target: string }): Promise<AttachAdmission> {
  const { endpoint } = options;
  if (endpoint.scheme !== 'wss') return { verdict: 'unsupported' };
  const credential = credentialOf(options);
  const remaining = deadlineOf(options);
  const headers = { ...authorization(credential), [attachCheckHeader]: '1', ...(options.takeover ? { [takeoverHeader]: '1' } : {}) };
  const secret = credentialText(credential);
  const answer = await getFromRelay(options, remaining, `/v1/attach/${encodeURIComponent(options.target)}`, headers, maxBodyBytes);
  if (answer.statusCode === 200) {
    const entry = admittedEntry(answer.body, options.target);
    return { verdict: 'admitted', ...(entry !== undefined ? { target: entry } : {}) };
  }
  const refusal = httpRefusalError(answer.statusCode, answer.statusMessage, answer.body, secret);
  if (refusal.code === 'BAD_REQUEST') return { verdict: 'unsupported' };
  throw refusal;
}

/** One page of the target list, as the relay sent it (revision 1.9, docs/protocol.md §7). */
export interface TargetListPage {
  readonly targets: TargetInfo[];
  /** More targets follow: ask again with `after` set to this name. Absent from a relay before 1.9. */
  readonly next?: string;
}

/** Which page to ask for (docs/protocol.md §7): targets after `after`, at most `limit` of them. */
export interface TargetPageRequest {
  readonly after?: string;
  readonly limit?: number;
}

function pageOf(reply: { targets?: TargetInfo[] | undefined; next?: string | undefined }): TargetListPage {
  return { targets: reply.targets ?? [], ...(reply.next !== undefined ? { next: reply.next } : {}) };
}

async function fetchPageHttps(options: RelayDialOptions, credential: Credential | undefined, remaining: () => number, page: TargetPageRequest): Promise<TargetListPage> {
  const { endpoint } = options;
  const where = formatAddress(endpoint);
  // Paging in headers (revision 1.9): v1 endpoints take no query string, and a relay before 1.9 ignores them.
  const headers = {
    ...authorization(credential),
    Accept: 'application/json',
    ...(page.after !== undefined ? { 'X-Dbgrelay-After': page.after } : {}),
    ...(page.limit !== undefined ? { 'X-Dbgrelay-Limit': String(page.limit) } : {}),
  };
  const secret = credentialText(credential);
  const answer = await getFromRelay(options, remaining, '/v1/targets', headers, maxTargetsReplyBytes);
  if (answer.statusCode !== 200) throw httpRefusalError(answer.statusCode, answer.statusMessage, answer.body, secret);
  try {
    const reply = helloReply.parse(parseBoundedJson(answer.body, 'target list'));
    return reply.ok ? pageOf(reply) : { targets: [] };
  } catch {
    throw new RelayError('BAD_REQUEST', `the relay at ${where} sent a malformed target list`);
  }
}

async function fetchPageTcps(options: RelayDialOptions, credential: Credential | undefined, remaining: () => number, page: TargetPageRequest): Promise<TargetListPage> {
  const socket = await connectRelay(options, remaining);
  const hello = { dbgrelay: protocolVersion, op: 'targets', ...page, ...helloCredential(credential) } as const;
  const accepted = await exchangeHello(socket, hello, { maxReplyBytes: maxTargetsReplyBytes, timeoutMs: remaining(), where: formatAddress(options.endpoint) });
  socket.destroy();
  return pageOf(accepted);
}

/**
 * One page of the target list (docs/protocol.md §7, revision 1.9): `GET
 * <base>/v1/targets` with `X-Dbgrelay-After` and `X-Dbgrelay-Limit` over https, or a
 * `targets` hello with `after` and `limit` over tcps. Errors as for {@link dialSession}.
 */
export async function fetchTargetPage(options: RelayDialOptions, page: TargetPageRequest = {}): Promise<TargetListPage> {
  const credential = credentialOf(options);
  const remaining = deadlineOf(options);
  return options.endpoint.scheme === 'wss' ? fetchPageHttps(options, credential, remaining, page) : fetchPageTcps(options, credential, remaining, page);
}

/**
 * Most pages {@link fetchTargetList} fetches unless told otherwise: 250k targets at the
 * relay's default page size, and still 20k when every target's labels are the worst
 * JSON can make of 2048 bytes (control characters, 6 bytes each: 40 targets a page).
 */
export const defaultMaxTargetPages = 500;

/** Bounds of {@link fetchTargetList}. */
export interface TargetListBounds {
  /** Stop once this many targets are in hand (default: no bound but the page count). */
  readonly maxTargets?: number;
  /** Stop after this many pages (default {@link defaultMaxTargetPages}). */
  readonly maxPages?: number;
}

/** The target list, and whether it is all of it. */
export interface TargetList {
  readonly targets: TargetInfo[];
  /** False when a bound stopped the listing before the relay's last page. */
  readonly complete: boolean;
}

/**
 * The whole target list, page after page (docs/protocol.md §7), each page on its own
 * connection with its own dial timeout; stops at `bounds` and then says the list is not
 * `complete`. A relay before revision 1.9 answers in one page.
 */
export async function fetchTargetList(options: RelayDialOptions, bounds: TargetListBounds = {}): Promise<TargetList> {
  const maxPages = bounds.maxPages ?? defaultMaxTargetPages;
  const maxTargets = bounds.maxTargets ?? Number.POSITIVE_INFINITY;
  const targets: TargetInfo[] = [];
  let after: string | undefined;
  for (let pages = 0; pages < maxPages && targets.length < maxTargets; pages += 1) {
    const wanted = maxTargets - targets.length;
    const limit = wanted < maxTargetsPage ? wanted : undefined;
    const page = await fetchTargetPage(options, { ...(after !== undefined ? { after } : {}), ...(limit !== undefined ? { limit } : {}) });
    targets.push(...page.targets.slice(0, wanted));
    // A cursor that does not move on would loop: only a broken relay sends one.
    if (page.next === undefined || (after !== undefined && page.next <= after)) return { targets, complete: page.next === undefined && page.targets.length <= wanted };
    after = page.next;
  }
  return { targets, complete: false };
}

/**
 * Lists the targets connected to the relay (docs/protocol.md §7), every page of it up
 * to {@link defaultMaxTargetPages} pages. Errors as for {@link dialSession}.
 */
export async function fetchTargets(options: RelayDialOptions): Promise<TargetInfo[]> {
  return (await fetchTargetList(options)).targets;
}
