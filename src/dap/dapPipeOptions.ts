import type { JsonDepthBound } from '../common/jsonDepth.js';
import type { DapDirection, DapInterceptors, DapPipeLogger } from './dapInterceptor.js';
import type { DapMessage } from './dapMessage.js';

/** First `seq` of the messages a pipe's owner originates, unless `ownSeqBase` says otherwise. */
export const defaultOwnSeqBase = 0x2000_0000;

/** Options of a `DapPipe`. */
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
   * First `seq` of the messages the pipe's owner originates (`nextSeq`, refusals of
   * interceptors); default {@link defaultOwnSeqBase}. One sequence serves both
   * directions; keep it far from any peer's own numbers.
   */
  readonly ownSeqBase?: number;
  /** Where an interceptor that failed is reported, with its stack (the session goes on). */
  readonly logger?: DapPipeLogger;
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
   * side is closed and `onClientGone` runs; none when unset or undefined. `seq` is the
   * notice's own (from `nextSeq`).
   */
  readonly clientProtocolErrorNotice?: (error: Error, seq: number) => DapMessage | undefined;
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

/** Why a `DapPipe` stopped. */
export interface DapPipeCloseReason {
  readonly closedBy: 'client' | 'adapter' | 'local' | 'protocolError';
  readonly error?: Error;
  /** For `protocolError`: the side whose stream (or message) broke the protocol. */
  readonly side?: 'client' | 'adapter';
}
