import { connect as netConnect, type Socket } from 'node:net';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { DapFramer, encodeDapMessage } from '../../../src/dap/dapFramer.js';
import { parseDapMessage, type DapMessage } from '../../../src/dap/dapMessage.js';

/** Answers a reverse request: returns the response body, or throws to fail it. */
export type ReverseRequestHandler = (request: DebugProtocol.Request) => unknown;

/** A failed DAP request: the message is the adapter's, `response` the whole answer. */
export class DapRequestError extends Error {
  override readonly name = 'DapRequestError';
  constructor(readonly response: DebugProtocol.Response) {
    super(`${response.command} failed: ${response.message ?? (response.body as DebugProtocol.ErrorResponse['body'] | undefined)?.error?.format ?? 'no message'}`);
  }
}

interface Pending {
  readonly command: string;
  resolve(response: DebugProtocol.Response): void;
  reject(error: Error): void;
}

interface EventWaiter {
  readonly name: string;
  readonly predicate: (event: DebugProtocol.Event) => boolean;
  resolve(event: DebugProtocol.Event): void;
}

/**
 * A DAP client for end-to-end tests over TCP, like VS Code's: sends requests with
 * increasing `seq`, matches responses, buffers events so {@link waitForEvent} also
 * sees those that arrived earlier (each event satisfies one wait), and answers
 * reverse requests (`startDebugging`, `runInTerminal`) with success unless a handler
 * says otherwise.
 */
export class DapTestClient {
  /** Every event received, in order. */
  readonly events: DebugProtocol.Event[] = [];
  /** Every reverse request received, in order. */
  readonly reverseRequests: DebugProtocol.Request[] = [];
  /** Resolves when the connection is closed (by either side). */
  readonly closed: Promise<void>;
  private seq = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly unconsumed: DebugProtocol.Event[] = [];
  private waiters: EventWaiter[] = [];
  private readonly handlers = new Map<string, ReverseRequestHandler>();
  private isClosed = false;
  /** Set when the peer sent something that is not DAP; the connection is then dropped. */
  protocolError: Error | undefined;
  /** Response bodies as they arrived, by request seq, while {@link keepBodies} is set (see {@link requestWithBody}). */
  private readonly bodies = new Map<number, Buffer>();
  /** Keep the bytes of each response body for {@link requestWithBody}. */
  keepBodies = false;
  /** The seq the next request gets. */
  get nextSeq(): number {
    return this.seq;
  }

  private constructor(
    private readonly socket: Socket,
    maxMessageBytes: number,
  ) {
    socket.setNoDelay(true);
    const framer = new DapFramer(maxMessageBytes);
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const { body } of framer.push(chunk)) this.dispatch(parseDapMessage(body), body);
      } catch (error) {
        this.protocolError = error as Error;
        socket.destroy();
      }
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.isClosed = true;
        for (const [, p] of this.pending) p.reject(new Error(`connection closed before the ${p.command} response`));
        this.pending.clear();
        resolve();
      });
    });
    socket.on('error', () => undefined); // surfaced as 'close' and as rejected requests
  }

  /** Connects to a DAP server (debugpy, `dbgrelay attach`) at `host:port`. */
  static connect(port: number, host = '127.0.0.1', maxMessageBytes = 64 * 1024 * 1024): Promise<DapTestClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host, port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new DapTestClient(socket, maxMessageBytes));
      });
    });
  }

  /** True once the connection is closed. */
  get isConnectionClosed(): boolean {
    return this.isClosed;
  }

  /** Sends a request and resolves with its response; rejects with {@link DapRequestError} on `success: false`. */
  request<R extends DebugProtocol.Response = DebugProtocol.Response>(command: string, args?: unknown, timeoutMs = 10_000): Promise<R> {
    const seq = this.seq++;
    const message: DebugProtocol.Request = { seq, type: 'request', command, ...(args !== undefined ? { arguments: args } : {}) };
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error(`no response to ${command} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(seq, {
        command,
        resolve: (response) => {
          clearTimeout(timer);
          if (response.success) resolve(response as R);
          else reject(new DapRequestError(response));
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      if (this.isClosed) this.pending.get(seq)!.reject(new Error(`connection closed; cannot send ${command}`));
      else this.socket.write(encodeDapMessage(message));
    });
  }

  /**
   * Like {@link request}, and also returns the response's body bytes exactly as they
   * arrived (needs {@link keepBodies}).
   */
  async requestWithBody<R extends DebugProtocol.Response = DebugProtocol.Response>(command: string, args?: unknown, timeoutMs = 10_000): Promise<{ response: R; body: Buffer }> {
    const seq = this.seq;
    const response = await this.request<R>(command, args, timeoutMs);
    const body = this.bodies.get(seq);
    this.bodies.delete(seq);
    if (!body) throw new Error(`keepBodies was not set: no body kept for ${command}`);
    return { response, body };
  }

  /** Waits for an event named `name` (matching `predicate`), including one that already arrived and was not yet waited for. */
  waitForEvent<E extends DebugProtocol.Event = DebugProtocol.Event>(name: string, predicate: (event: E) => boolean = () => true, timeoutMs = 10_000): Promise<E> {
    const test = (event: DebugProtocol.Event): boolean => event.event === name && predicate(event as E);
    const index = this.unconsumed.findIndex(test);
    if (index >= 0) return Promise.resolve(this.unconsumed.splice(index, 1)[0] as E);
    return new Promise<E>((resolve, reject) => {
      const waiter: EventWaiter = {
        name,
        predicate: test,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event as E);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${name} event within ${timeoutMs} ms (got: ${this.events.map((e) => e.event).join(', ') || 'none'})`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Sets how a reverse request `command` is answered (the default answers success with no body). */
  onReverseRequest(command: string, handler: ReverseRequestHandler): void {
    this.handlers.set(command, handler);
  }

  /** Ends the connection gracefully and waits until it is closed. */
  async close(): Promise<void> {
    if (!this.isClosed) this.socket.end();
    await this.closed;
  }

  /** Drops the connection abruptly (TCP RST) and waits until it is closed. */
  async destroy(): Promise<void> {
    if (!this.isClosed) this.socket.resetAndDestroy();
    await this.closed;
  }

  private dispatch(message: DapMessage, body: Buffer): void {
    if (message.type === 'response') {
      const response = message as DebugProtocol.Response;
      if (this.keepBodies) this.bodies.set(response.request_seq, Buffer.from(body));
      const pending = this.pending.get(response.request_seq);
      this.pending.delete(response.request_seq);
      pending?.resolve(response);
    } else if (message.type === 'event') {
      const event = message as DebugProtocol.Event;
      this.events.push(event);
      const waiter = this.waiters.find((w) => w.predicate(event));
      if (waiter) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(event);
      } else {
        this.unconsumed.push(event);
      }
    } else {
      void this.answer(message as DebugProtocol.Request);
    }
  }

  private async answer(request: DebugProtocol.Request): Promise<void> {
    this.reverseRequests.push(request);
    const handler = this.handlers.get(request.command);
    const base = { seq: this.seq++, type: 'response' as const, request_seq: request.seq, command: request.command };
    let response: DebugProtocol.Response;
    try {
      const body = handler ? await handler(request) : undefined;
      response = { ...base, success: true, ...(body !== undefined ? { body } : {}) };
    } catch (error) {
      response = { ...base, success: false, message: (error as Error).message };
    }
    if (!this.isClosed) this.socket.write(encodeDapMessage(response));
  }
}
