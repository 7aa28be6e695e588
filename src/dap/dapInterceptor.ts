import type { DebugProtocol } from '@vscode/debugprotocol';
import type { RelayErrorCode } from '../common/relayError.js';
import type { DapMessage } from './dapMessage.js';

/** Which way a message travels through a `DapPipe`. */
export type DapDirection = 'toAdapter' | 'toClient';

/** The other way: where the answer to a message travelling `direction` goes. */
export function oppositeDirection(direction: DapDirection): DapDirection {
  return direction === 'toAdapter' ? 'toClient' : 'toAdapter';
}

/**
 * What an interceptor decides for one message: `undefined` forwards the original
 * bytes untouched, a message forwards that replacement, `null` drops the message.
 */
export type DapVerdict = DapMessage | null | undefined;

/**
 * Context an interceptor gets: which way the message goes and how to answer. The
 * context stays valid after the call (e.g. for a timer that resumes the debuggee later);
 * what it sends once the pipe stopped is dropped.
 */
export interface DapInterceptContext {
  readonly direction: DapDirection;
  /**
   * A fresh `seq` for a message the pipe's owner originates toward `toward`. One
   * sequence serves both directions, from the pipe's `ownSeqBase` up, far from any
   * peer's own numbers, so that an answer to an own request is told apart.
   */
  nextSeq(toward: DapDirection): number;
  /** Sends a message of the pipe's owner toward `toward`. */
  send(toward: DapDirection, message: DapMessage): void;
  /**
   * Sends a message of the pipe's owner toward `toward` as the exact body bytes given
   * (framed canonically), for an answer that must keep another party's spelling.
   */
  sendBody(toward: DapDirection, body: Buffer): void;
  /**
   * Answers `request` (travelling this context's direction) toward its sender with an
   * error response `dbgrelay: <message>` (see `dapErrorResponse`); with `code`, the
   * response also carries that code in `body.error`. Returns `null`, the verdict that
   * drops the request.
   */
  refuse(request: DebugProtocol.Request, message: string, code?: RelayErrorCode): null;
  /** Sends a message to the client side (same as `send('toClient', message)`). */
  sendToClient(message: DapMessage): void;
  /** Sends a message to the adapter side (same as `send('toAdapter', message)`). */
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

/**
 * Where a pipe reports an interceptor that failed (the session goes on); a pino
 * logger fits. `fields.err` carries the error with its stack.
 */
export interface DapPipeLogger {
  error(fields: { readonly err: Error; readonly direction: DapDirection; readonly type: string; readonly name: string }, message: string): void;
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
  // One pass of one expression over the body's bytes (each byte one latin1 character,
  // so a needle's UTF-8 bytes match exactly where they occur): an order of magnitude
  // cheaper than a Buffer search per name.
  const needles = [unicodeEscape, ...[...names].map((name) => Buffer.from(JSON.stringify(name)))];
  const pattern = new RegExp(needles.map((needle) => needle.toString('latin1').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'));
  return (body) => pattern.test(body.toString('latin1'));
}
