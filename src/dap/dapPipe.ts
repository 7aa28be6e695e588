import { DapFramer } from './dapFramer.js';
import { canonicalHeader, encodeDapMessage } from './dapFramer.js';
import { dapErrorResponse, interceptorFailureAnswer } from './dapErrorResponse.js';
import { everyMessageToAdapter, interceptedNameFilter, oppositeDirection, type DapDirection, type DapInterceptContext, type DapVerdict } from './dapInterceptor.js';
import { dapMessageName, parseDapMessage, type DapMessage } from './dapMessage.js';
import { defaultOwnSeqBase, type AdapterLink, type DapPipeCloseReason, type DapPipeOptions } from './dapPipeOptions.js';
import type { Transport } from '../transport/transport.js';
import { RelayError } from '../common/relayError.js';

// The interceptor vocabulary and the pipe's options, for the pipe's users.
export * from './dapInterceptor.js';
export * from './dapPipeOptions.js';

/**
 * Connects a client-side transport to an adapter-side transport and forwards DAP
 * messages between them. Every message is framed (so a malformed or oversized stream
 * ends the session rather than confusing the peer) and forwarded in canonical form,
 * `Content-Length: N\r\n\r\n` and the body (see {@link DapFramer}: the exact bytes
 * that arrived when their header was canonical); a message whose name has an
 * interceptor is parsed and handed to it. When either side closes, the other is
 * closed too.
 *
 * An interceptor that throws ends neither the session nor the process: the message
 * is dropped, the error is logged (`logger`), and every request stays answered: a
 * request is answered toward its sender, and the request a dropped response answers
 * toward the side waiting for it, with an error response carrying the code
 * `INTERNAL` (see `interceptorFailureAnswer`); an event is just dropped.
 *
 * A protocol error on the client's stream (a refused header, an oversized message, a
 * body that is not a DAP message or nests too deep) ends the session like a client
 * loss: the client gets `clientProtocolErrorNotice` if set, its side is closed, and
 * `onClientGone` runs against the healthy adapter side (the debugger is detached, the
 * debuggee resumes). A protocol error on the adapter's stream destroys both sides at
 * once. Any other failure while handling a side's bytes (a callback, a transcript)
 * ends the session like a protocol error of that side.
 */
export class DapPipe {
  private stopped = false;
  /** Listeners of adapter messages while the client is gone and the adapter still open. */
  private detachListeners: Array<(message: DapMessage) => void> | undefined;
  private readonly context: Record<DapDirection, DapInterceptContext>;
  /** First `seq` of the owner's own messages; those it sent are in [ownSeqBase, ownSeq). */
  private readonly ownSeqBase: number;
  private ownSeq: number;
  private resolveClosed!: (reason: DapPipeCloseReason) => void;
  /** Resolves once the pipe has stopped and both sides are closed (after any detach). */
  readonly closed: Promise<DapPipeCloseReason> = new Promise((resolve) => (this.resolveClosed = resolve));

  constructor(
    readonly client: Transport,
    readonly adapter: Transport,
    private readonly options: DapPipeOptions,
  ) {
    this.ownSeqBase = options.ownSeqBase ?? defaultOwnSeqBase;
    this.ownSeq = this.ownSeqBase;
    this.context = { toAdapter: this.interceptContext('toAdapter'), toClient: this.interceptContext('toClient') };
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

  /** A fresh `seq` for a message of the pipe's owner toward `toward` (see {@link DapPipeOptions.ownSeqBase}). */
  nextSeq(_toward: DapDirection): number {
    return this.ownSeq++;
  }

  /** Sends a message of the relay's own toward `toward` ({@link sendToClient}, {@link sendToAdapter}). */
  send(toward: DapDirection, message: DapMessage): void {
    if (toward === 'toClient') this.sendToClient(message);
    else this.sendToAdapter(message);
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

  private interceptContext(direction: DapDirection): DapInterceptContext {
    return {
      direction,
      nextSeq: (toward) => this.nextSeq(toward),
      send: (toward, message) => this.send(toward, message),
      sendBody: (toward, body) => {
        if (this.stopped) return;
        this.options.onFrame?.(toward, body, 'relay');
        (toward === 'toClient' ? this.client : this.adapter).send(Buffer.concat([canonicalHeader(body.length), body]));
      },
      refuse: (request, message, code) => {
        const toward = oppositeDirection(direction);
        this.send(toward, dapErrorResponse(request, this.nextSeq(toward), message, code));
        return null;
      },
      sendToClient: (message) => this.sendToClient(message),
      sendToAdapter: (message) => this.sendToAdapter(message),
    };
  }

  /**
   * An interceptor threw on `message`: logs it and answers what stays unanswered now
   * that the message is dropped (see {@link interceptorFailureAnswer}).
   */
  private interceptorFailed(message: DapMessage, direction: DapDirection, error: unknown): void {
    const answer = interceptorFailureAnswer(message, direction, (seq) => seq >= this.ownSeqBase && seq < this.ownSeq);
    if (answer) this.send(answer.toward, answer.response(this.nextSeq(answer.toward)));
    const err = error instanceof Error ? error : new RelayError('INTERNAL', `DAP interceptor threw ${String(error)}`);
    this.options.logger?.error(
      { err, direction, type: String(message.type), name: String(dapMessageName(message)) },
      `a DAP interceptor failed: the message was dropped${answer ? ' and its request answered with an INTERNAL error' : ''}; the session goes on`,
    );
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
        let failure: { readonly error: unknown } | undefined;
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
              // A guard's bug costs this message, never the session nor the process.
              verdict = null;
              failure = { error };
            }
          }
        }
        this.options.onMessage?.(direction, name, frame.length, message);
        this.options.onFrame?.(direction, body, 'peer');
        if (failure && message) this.interceptorFailed(message, direction, failure.error);
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
      const notice = this.options.clientProtocolErrorNotice(error, this.nextSeq('toClient'));
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
    this.adapter.onClose(() => {
      for (const listener of closeListeners.splice(0)) listener();
    });
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
