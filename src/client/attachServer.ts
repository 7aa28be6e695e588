import { createServer, type AddressInfo, type Socket } from 'node:net';
import { isLoopbackHost } from '../common/loopbackHost.js';
import { RelayError } from '../common/relayError.js';
import { DapPipe, type DapInterceptors } from '../dap/dapPipe.js';
import { prefetchCacheInterceptors, type PrefetchStats } from './prefetchCache.js';
import { defaultMaxDapMessageBytes } from '../protocol/dapMessageBound.js';
import { startHeartbeats, withHeartbeatAnswersDropped } from '../liveness/attachHeartbeats.js';
import { SocketTransport } from '../transport/socketTransport.js';
import type { Transport } from '../transport/transport.js';
import type { ClientIdentity } from '../dial/clientIdentity.js';
import { refuseDapClient } from './dapRefusal.js';
import { dialSession, type DialSessionOptions } from '../dial/relayDialer.js';
import type { RelayEndpoint } from '../dial/relayEndpoint.js';
import { describeRelayError } from '../dial/relayRefusal.js';
import { attachClientSeqBase, subprocessRewriteInterceptors } from './subprocessRewrite.js';
import type { TlsTrust } from '../dial/tlsTrust.js';

/** Where `dbgrelay attach` reports what happens; the CLI writes to stderr. */
export interface AttachLogger {
  info(message: string): void;
  error(message: string): void;
}

/** Options of {@link startAttachServer}. */
export interface AttachServerOptions {
  readonly endpoint: RelayEndpoint;
  /** The target; undefined with a `wss://…/ptvsd` endpoint (the relay's default target). */
  readonly target?: string | undefined;
  readonly trust: TlsTrust;
  /** Client certificate and key, for relays that ask for one (mTLS). */
  readonly identity?: ClientIdentity;
  /** Relay secret; defaults to the one in the endpoint URL. */
  readonly secret?: string;
  /**
   * Bearer token (JWT) to present instead of a secret; a function is called for each
   * session, so that a token file refreshed on disk is picked up without a restart.
   */
  readonly token?: string | (() => string);
  /** Loopback address to listen on (default `127.0.0.1`); anything else is refused. */
  readonly host?: string;
  /** Local port (default 5678, debugpy's usual port; 0 picks a free one). */
  readonly port?: number;
  /**
   * Bound on one DAP message, either way (default {@link defaultMaxDapMessageBytes},
   * the relay's `dap.maxMessageBytes` default; raise it with the relay's).
   */
  readonly maxMessageBytes?: number;
  /** Bound on dialing the relay for one session. */
  readonly dialTimeoutMs?: number;
  /**
   * Every session asks the relay to take the target over from its current holder
   * (admin grant only). Harmless for the debugger's subprocess sessions: the admin
   * holds the target by then, and a holder never takes over from itself.
   */
  readonly takeover?: boolean;
  /** Session liveness interval (see {@link DialSessionOptions.heartbeatMs}); 0 turns it off. */
  readonly heartbeatMs?: number;
  /**
   * Ask for answers sent ahead on each stop and answer identical read-only requests
   * from them (docs/protocol.md §6; default true). Over a slow network this saves the
   * round trips of `threads`, `stackTrace`, `scopes` and `variables` after each stop.
   */
  readonly prefetch?: boolean;
  readonly logger?: AttachLogger;
  /** Opens a relay session; {@link dialSession} unless replaced (tests, embedding). */
  readonly dial?: (options: DialSessionOptions) => Promise<Transport>;
  /** The text a refused session shows (log and DAP client), e.g. with the fix named; default {@link describeRelayError}. */
  readonly describeRefusal?: (error: unknown) => string;
}

/** A running `dbgrelay attach` listener. */
export interface AttachServer {
  /** The local address DAP clients connect to. */
  readonly address: AddressInfo;
  /** Stops listening and ends every session. */
  close(): Promise<void>;
}

const quietLogger: AttachLogger = { info: () => undefined, error: () => undefined };
/**
 * How long a refused DAP client has to send its first request (the refusal is the
 * answer to it); VS Code sends `initialize` at once, so 10 s only bounds a client
 * that sends nothing.
 */
export const refusalWaitMs = 10_000;

/** `base` and, per session, the cache of answers sent ahead ({@link prefetchCacheInterceptors}; no name in common). */
function withPrefetchCache(base: DapInterceptors, stats: PrefetchStats): DapInterceptors {
  const cache = prefetchCacheInterceptors(stats);
  return { toAdapter: cache.toAdapter ?? new Map(), toClient: new Map([...(base.toClient ?? []), ...(cache.toClient ?? [])]) };
}

/** `options` with the bearer token of this session, if any. */
function withToken(options: DialSessionOptions, token: AttachServerOptions['token']): DialSessionOptions {
  const value = typeof token === 'function' ? token() : token;
  return value === undefined ? options : { ...options, token: value };
}

function listen(server: ReturnType<typeof createServer>, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'is in use (another dbgrelay attach or debugpy?); choose another with --port' : `cannot be opened: ${error.message}`;
      reject(new RelayError('CONFIG_INVALID', `local address ${host}:${port} ${why}`, { cause: error }));
    });
    server.listen({ host, port }, () => resolve(server.address() as AddressInfo));
  });
}

/**
 * Starts the local side of `dbgrelay attach` (design §2): a loopback TCP listener
 * where each accepted connection (one DAP client, e.g. VS Code's `attach` with
 * `connect`) becomes one relay session with `target`, piped with the subprocess
 * rewrite of docs/protocol.md §6. When the relay refuses, the DAP client gets the
 * reason as a DAP error response to its first request.
 */
export async function startAttachServer(options: AttachServerOptions): Promise<AttachServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    throw new RelayError('CONFIG_INVALID', `refusing to listen on ${host}: dbgrelay attach listens on loopback only (anyone who reaches the port can run code in the target)`);
  }
  const logger = options.logger ?? quietLogger;
  const label = options.target !== undefined ? `"${options.target}"` : "the relay's default target (/ptvsd)";
  const maxMessageBytes = options.maxMessageBytes ?? defaultMaxDapMessageBytes;
  const dial = options.dial ?? dialSession;
  const locals = new Set<Transport>();
  const pipes = new Set<DapPipe>();
  let closing = false;
  let sessionCount = 0;
  let address: AddressInfo | undefined;
  const interceptors = withHeartbeatAnswersDropped(subprocessRewriteInterceptors(() => ({ host: address!.address, port: address!.port })));
  const prefetch = options.prefetch ?? true;

  const onConnection = (socket: Socket): void => {
    if (closing) {
      socket.destroy();
      return;
    }
    const id = ++sessionCount;
    const local = new SocketTransport(socket, 'tcp');
    locals.add(local);
    local.onClose(() => locals.delete(local));
    logger.info(`session ${id}: DAP client ${local.remoteAddress} connected; opening ${label} via ${options.endpoint.display}`);
    const dialOptions: DialSessionOptions = {
      endpoint: options.endpoint,
      ...(options.target !== undefined ? { target: options.target } : {}),
      trust: options.trust,
      ...(options.identity !== undefined ? { identity: options.identity } : {}),
      ...(options.secret !== undefined ? { secret: options.secret } : {}),
      ...(options.dialTimeoutMs !== undefined ? { timeoutMs: options.dialTimeoutMs } : {}),
      ...(options.takeover ? { takeover: true } : {}),
      ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
      ...(prefetch ? { prefetch: true } : {}),
    };
    // The token is read per session (a refreshed token file takes effect at once); a read error refuses this session.
    Promise.resolve()
      .then(() => dial(withToken(dialOptions, options.token)))
      .then(
        (relay) => {
          if (local.closed || closing) {
            relay.close();
            logger.info(`session ${id}: DAP client left before the relay answered`);
            return;
          }
          let stopHeartbeats: (() => void) | undefined;
          const ahead: PrefetchStats = { received: 0, served: 0, discarded: 0 };
          const pipe = new DapPipe(local, relay, {
            maxMessageBytes,
            interceptors: prefetch ? withPrefetchCache(interceptors, ahead) : interceptors,
            ownSeqBase: attachClientSeqBase,
            logger: { error: ({ err, direction, name }, message) => logger.error(`session ${id}: ${message} (${direction} ${name}): ${err.stack ?? err.message}`) },
            onClose: (reason) => {
              stopHeartbeats?.();
              pipes.delete(pipe);
              const cause = reason.error ? `: ${describeRelayError(reason.error)}` : '';
              const sentAhead = ahead.received > 0 ? `; ${ahead.served} of ${ahead.received} answers sent ahead were used` : '';
              logger.info(`session ${id}: ended (closed by ${reason.closedBy}${cause})${sentAhead}`);
            },
          });
          pipes.add(pipe);
          // tcps: the relay takes a silent client as gone (over wss, WebSocket pings do this).
          stopHeartbeats = startHeartbeats(pipe, relay);
          logger.info(`session ${id}: attached to ${label}`);
        },
        (error: unknown) => {
          const text = (options.describeRefusal ?? describeRelayError)(error);
          logger.error(`session ${id}: ${text}`);
          void refuseDapClient(local, `dbgrelay: ${text}`, { maxMessageBytes, waitMs: refusalWaitMs });
        },
      );
  };

  const server = createServer({ noDelay: true }, onConnection);
  address = await listen(server, host, options.port ?? 5678);
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));

  return {
    address,
    close: async () => {
      if (!closing) {
        closing = true;
        server.close();
        for (const pipe of pipes) pipe.close();
        for (const local of locals) local.destroy();
      }
      await closed;
    },
  };
}
