import { DapFramer } from './dapFramer.js';
import { encodeDapMessage } from './dapFramer.js';
import { dapMessageName, parseDapMessage, type DapMessage } from './dapMessage.js';
import type { Transport } from '../transport/transport.js';
import type { JsonDepthBound } from '../common/jsonDepth.js';
import { RelayError } from '../common/relayError.js';

/** Which way a message travels through a {@link DapPipe}. */
export type DapDirection = 'toAdapter' | 'toClient';

/**
 * What an interceptor decides for one message: `undefined` forwards the original
 * bytes untouched, a message forwards that replacement, `null` drops the message.
 */
export type DapVerdict = DapMessage | null | undefined;

/** Context an interceptor gets: which way the message goes and how to answer. */
export interface DapInterceptContext {
  readonly direction: DapDirection;
  /** Sends a message to the client side (e.g. an error response to a refused request). */
  sendToClient(message: DapMessage): void;
  /** Sends a message to the adapter side. */
  sendToAdapter(message: DapMessage): void;
}

/** Handler for one DAP command or event name. */
export type DapInterceptor = (message: DapMessage, context: DapInterceptContext) => DapVerdict;

/**
 * The interceptor key that sees every message toward the adapter whose name has no
 * interceptor of its own (request validation); see `InterceptorChain.addForEveryRequest`.
 */
export const everyMessageToAdapter = '*';

/** Interceptors by direction and by command or event name (intercept by name). */
export type DapInterceptors = Partial<Record<DapDirection, ReadonlyMap<string, DapInterceptor>>>;

/** Options of a {@link DapPipe}. */
export interface DapPipeOptions {
  /** Bound on one DAP message (config key `dap.maxMessageBytes`). */
  readonly maxMessageBytes: number;
  /**
   * Bound on the nesting of each message the pipe parses (config key
   * `limits.maxJsonDepth`; default 64): a deeper one is a protocol error of its side.
   */
  readonly jsonDepth?: JsonDepthBound;
  readonly interceptors?: DapInterceptors;
  /**
   * Called once per message that crossed the pipe (metrics), with its framed size.
   * Messages toward the adapter (client requests: few and small) are always parsed
   * (a body that is not a DAP message ends the session before it reaches the
   * adapter), so `message` and `name` are set for them; messages toward the client (the bulk:
   * variables, output) are parsed only when an interceptor may want them, so that
   * counting them costs no JSON parse.
   */
  readonly onMessage?: (direction: DapDirection, name: string | undefined, bytes: number, message?: DapMessage) => void;
  /** Called once when the pipe stops, with the error that stopped it if any. */
  readonly onClose?: (reason: DapPipeCloseReason) => void;
  /**
   * Called for every message body that crosses the pipe, and for every message the
   * relay itself injects (`origin: 'relay'`), e.g. for session transcripts.
   */
  readonly onFrame?: (direction: DapDirection, body: Buffer, origin: 'peer' | 'relay') => void;
  /**
   * Called when the client side is gone (closed, reset, or {@link DapPipe.close}) while
   * the adapter side is still open: the session may still talk to the adapter (e.g. to
   * detach the debugger so the debuggee never stays paused). The adapter side is closed
   * when the returned promise settles; `onClose` is called after that.
   */
  readonly onClientGone?: (adapter: AdapterLink) => Promise<void>;
  /**
   * The message to send the client when its own stream broke the protocol (a refused
   * header, an oversized message, a body that is not a DAP message), sent before its
   * side is closed and `onClientGone` runs; none when unset or undefined.
   */
  readonly clientProtocolErrorNotice?: (error: Error) => DapMessage | undefined;
}

/** The adapter side of a pipe whose client is gone (see {@link DapPipeOptions.onClientGone}). */
export interface AdapterLink {
  /** Sends a message to the adapter. */
  send(message: DapMessage): void;
  /** Registers a listener for every message the adapter sends from now on (none reach the client). */
  onMessage(listener: (message: DapMessage) => void): void;
  /** Registers a listener called when the adapter side closes; at once if it is closed. */
  onClose(listener: () => void): void;
}

/** Why a {@link DapPipe} stopped. */
export interface DapPipeCloseReason {
  readonly closedBy: 'client' | 'adapter' | 'local' | 'protocolError';
  readonly error?: Error;
  /** For `protocolError`: the side whose stream (or message) broke the protocol. */
  readonly side?: 'client' | 'adapter';
}

/**
 * Connects a client-side transport to an adapter-side transport and forwards DAP
 * messages between them. Every message is framed (so a malformed or oversized stream
 * ends the session rather than confusing the peer) and forwarded in canonical form,
 * `Content-Length: N\r\n\r\n` and the body (see {@link DapFramer}: the exact bytes
 * that arrived when their header was canonical); a message whose name has an
 * interceptor is parsed and handed to it. When either side closes, the other is
 * closed too.
 *
 * A protocol error on the client's stream (or a failing interceptor on a client
 * message) ends the session like a client loss: the client gets
 * `clientProtocolErrorNotice` if set, its side is closed, and `onClientGone` runs
 * against the healthy adapter side (the debugger is detached, the debuggee resumes).
 * A protocol error on the adapter's stream destroys both sides at once.
 */
export class DapPipe {
  private stopped = false;
  /** Listeners of adapter messages while the client is gone and the adapter still open. */
  private detachListeners: Array<(message: DapMessage) => void> | undefined;
  private readonly context: Record<DapDirection, DapInterceptContext>;
  private resolveClosed!: (reason: DapPipeCloseReason) => void;
  /** Resolves once the pipe has stopped and both sides are closed (after any detach). */
  readonly closed: Promise<DapPipeCloseReason> = new Promise((resolve) => (this.resolveClosed = resolve));

  constructor(
    readonly client: Transport,
    readonly adapter: Transport,
    private readonly options: DapPipeOptions,
  ) {
    const sendToClient = (message: DapMessage): void => this.sendToClient(message);
    const sendToAdapter = (message: DapMessage): void => this.sendToAdapter(message);
    this.context = {
      toAdapter: { direction: 'toAdapter', sendToClient, sendToAdapter },
      toClient: { direction: 'toClient', sendToClient, sendToAdapter },
    };
    this.wire(client, adapter, 'toAdapter');
    this.wire(adapter, client, 'toClient');
    // Backpressure: a side that cannot keep up stops the other from being read.
    adapter.onDrain(() => client.resume());
    client.onDrain(() => adapter.resume());
    client.onClose((error) => this.stop({ closedBy: 'client', ...(error ? { error } : {}) }));
    adapter.onClose((error) => this.stop({ closedBy: 'adapter', ...(error ? { error } : {}) }));
  }

  /** Closes both sides (flushing what is queued), after any detach (see `onClientGone`). */
  close(): void {
    this.stop({ closedBy: 'local' });
  }

  /** Sends a message of the relay's own to the client side (dropped once the pipe stopped). */
  sendToClient(message: DapMessage): void {
    if (this.stopped) return;
    this.inject('toClient', this.client, message);
  }

  /** Sends a message of the relay's own to the adapter side (also while detaching). */
  sendToAdapter(message: DapMessage): void {
    if (this.stopped && !this.detachListeners) return;
    this.inject('toAdapter', this.adapter, message);
  }

  private inject(direction: DapDirection, to: Transport, message: DapMessage): void {
    const frame = encodeDapMessage(message);
    this.options.onFrame?.(direction, frame.subarray(frame.indexOf('\r\n\r\n') + 4), 'relay');
    to.send(frame);
  }

  private wire(from: Transport, to: Transport, direction: DapDirection): void {
    const framer = new DapFramer(this.options.maxMessageBytes);
    const interceptors = this.options.interceptors?.[direction];
    const mayIntercept = interceptors && interceptors.size > 0 ? interceptedNameFilter(interceptors.keys()) : undefined;
    const brokenBy = direction === 'toAdapter' ? 'client' : 'adapter';
    const handle = (chunk: Buffer): void => {
      let frames;
      try {
        frames = framer.push(chunk);
      } catch (error) {
        this.stop({ closedBy: 'protocolError', error: error as Error, side: brokenBy });
        return;
      }
      for (const { frame, body } of frames) {
        let name: string | undefined;
        let verdict: DapVerdict;
        let message: DapMessage | undefined;
        // Toward the adapter every message is parsed: only a DAP message may reach it.
        if (direction === 'toAdapter' || mayIntercept?.(body)) {
          try {
            message = parseDapMessage(body, this.options.jsonDepth);
          } catch (error) {
            this.stop({ closedBy: 'protocolError', error: error as Error, side: brokenBy });
            return;
          }
          name = dapMessageName(message);
          const interceptor = interceptors?.get(name) ?? (direction === 'toAdapter' ? interceptors?.get(everyMessageToAdapter) : undefined);
          if (interceptor) {
            try {
              verdict = interceptor(message, this.context[direction]);
            } catch (error) {
              // A failing interceptor must not take the process down; it ends this session.
              this.stop({ closedBy: 'protocolError', error: error as Error, side: brokenBy });
              return;
            }
          }
        }
        this.options.onMessage?.(direction, name, frame.length, message);
        this.options.onFrame?.(direction, body, 'peer');
        const keepingUp = verdict === undefined ? to.send(frame) : verdict === null || to.send(encodeDapMessage(verdict));
        if (!keepingUp) from.pause();
        if (this.stopped) return;
      }
    };
    from.onData((chunk) => {
      if (this.stopped) {
        if (direction === 'toClient' && this.detachListeners) this.deliverWhileDetaching(framer, chunk);
        return;
      }
      try {
        handle(chunk);
      } catch (error) {
        // Whatever fails on one session's bytes (a callback, a transcript, a bug) ends
        // that session like a protocol error of the side that sent them, never the process.
        const failure = error instanceof RelayError ? error : new RelayError('INTERNAL', `failed to handle a DAP message: ${String(error)}`, { cause: error });
        this.stop({ closedBy: 'protocolError', error: failure, side: brokenBy });
      }
    });
  }

  /** Best effort: tells the client why its stream ended the session, before it is closed. */
  private noticeToClient(error: Error | undefined): void {
    if (!error || !this.options.clientProtocolErrorNotice || this.client.closed) return;
    try {
      const notice = this.options.clientProtocolErrorNotice(error);
      if (notice) this.inject('toClient', this.client, notice);
    } catch {
      // The session ends whether or not the client could be told.
    }
  }

  private deliverWhileDetaching(framer: DapFramer, chunk: Buffer): void {
    try {
      for (const { body } of framer.push(chunk)) {
        const message = parseDapMessage(body, this.options.jsonDepth);
        for (const listener of this.detachListeners ?? []) listener(message);
      }
    } catch {
      this.adapter.destroy(); // a broken adapter stream ends the detach too
    }
  }

  private stop(reason: DapPipeCloseReason): void {
    if (this.stopped) return;
    this.stopped = true;
    const finish = (): void => {
      this.options.onClose?.(reason);
      this.resolveClosed(reason);
    };
    if (reason.closedBy === 'protocolError' && reason.side !== 'client') {
      this.client.destroy();
      this.adapter.destroy();
      return finish();
    }
    if (reason.closedBy === 'protocolError') this.noticeToClient(reason.error);
    this.client.close();
    const onClientGone = this.options.onClientGone;
    if (reason.closedBy === 'adapter' || !onClientGone || this.adapter.closed) {
      this.adapter.close();
      return finish();
    }
    this.detachListeners = [];
    const closeListeners: Array<() => void> = [];
    this.adapter.onClose(() => closeListeners.splice(0).forEach((listener) => listener()));
    this.adapter.resume();
    const link: AdapterLink = {
      send: (message) => this.sendToAdapter(message),
      onMessage: (listener) => this.detachListeners?.push(listener),
      onClose: (listener) => (this.adapter.closed ? listener() : void closeListeners.push(listener)),
    };
    let detaching: Promise<void>;
    try {
      detaching = onClientGone(link);
    } catch (error) {
      detaching = Promise.reject(error as Error);
    }
    void detaching
      .catch(() => undefined)
      .finally(() => {
        this.detachListeners = undefined;
        this.adapter.close();
        finish();
      });
  }
}

const unicodeEscape = Buffer.from('\\u');

/**
 * A cheap test run on every message body before JSON parsing: true when the body may
 * carry one of `names` as its command or event. It looks for the quoted name, and
 * also answers true for any body with a `\u` escape, since JSON may spell a name with
 * escapes that a byte search would miss (an adapter must not slip a message past an
 * interceptor that way). Messages it rejects are forwarded without being parsed.
 */
export function interceptedNameFilter(names: Iterable<string>): (body: Buffer) => boolean {
  const needles = [...names].map((name) => Buffer.from(JSON.stringify(name)));
  return (body) => body.includes(unicodeEscape) || needles.some((needle) => body.includes(needle));
}
