import { prefetchHeader } from '../protocol/prefetch.js';
import { WebSocket } from 'ws';
import type { Credential } from '../auth/principal.js';
import { parseBoundedJson } from '../common/jsonDepth.js';
import { RelayError } from '../common/relayError.js';
import { maxHelloBytes, protocolVersion, targetInfo, type TargetInfo } from '../protocol/controlMessages.js';
import { isValidTargetName } from '../protocol/targetName.js';
import { LivenessTransport } from '../liveness/livenessTransport.js';
import { startWebSocketHeartbeat } from '../liveness/webSocketHeartbeat.js';
import { SocketTransport } from '../transport/socketTransport.js';
import type { Transport } from '../transport/transport.js';
import { WebSocketTransport } from '../transport/webSocketTransport.js';
import { apiBasePath, hostForUrl, ptvsdBasePath } from './relayEndpoint.js';
import { httpRefusalError } from './relayRefusal.js';
import { exchangeHello } from './tcpsHello.js';
import { formatAddress } from './tlsConnect.js';
import { upgradeWithin } from './upgradeDeadline.js';
import {
  authorization,
  connectRelay,
  credentialOf,
  credentialText,
  deadlineOf,
  getFromRelay,
  helloCredential,
  maxBodyBytes,
  readBody,
  useSocket,
  type RelayDialOptions,
} from './relayRequests.js';

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
