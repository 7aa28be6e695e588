import type { DebugProtocol } from '@vscode/debugprotocol';
import type { RelayErrorCode } from '../common/relayError.js';
import { oppositeDirection, type DapDirection } from './dapInterceptor.js';
import type { DapMessage } from './dapMessage.js';

/**
 * `body.error.id` of an error response that carries a relay error code: the id of its
 * one message template, `{message}` (DAP `Message.id`).
 */
export const relayErrorMessageId = 1;

/**
 * A DAP error response to `request` (its `seq` and `command` echoed) whose message says
 * why dbgrelay refused it or could not handle it: `dbgrelay: <text>`.
 *
 * With a `code`, the response also carries `body.error`, a DAP `Message` whose
 * `format` is the template `{message}` and whose `variables` hold the message and the
 * code (`variables.code`, stable: programs switch on it). The text is a variable, not
 * the template itself, because braces in a template are placeholders.
 */
export function dapErrorResponse(request: Pick<DebugProtocol.Request, 'seq' | 'command'>, seq: number, text: string, code?: RelayErrorCode): DebugProtocol.Response {
  const message = `dbgrelay: ${text}`;
  return {
    type: 'response',
    seq,
    request_seq: request.seq,
    command: request.command,
    success: false,
    message,
    ...(code !== undefined ? { body: { error: { id: relayErrorMessageId, format: '{message}', variables: { message, code } } } } : {}),
  };
}

/** The answer to a message an interceptor failed on, and which way it goes. */
export interface FailureAnswer {
  readonly toward: DapDirection;
  /** Builds the error response with the `seq` it is sent with. */
  readonly response: (seq: number) => DebugProtocol.Response;
}

/**
 * How to keep every request answered when an interceptor failed on `message`
 * (travelling `direction`), which is then dropped: a request is answered toward its
 * sender; a response is dropped, so the request it answers is answered toward the side
 * that waits for it, unless `ownRequest` says the pipe's owner sent that request itself
 * (nobody else waits for it); an event needs no answer (undefined, as for a message
 * without a usable `seq` or `request_seq`). The response carries the code `INTERNAL`.
 */
export function interceptorFailureAnswer(message: DapMessage, direction: DapDirection, ownRequest: (seq: number) => boolean = () => false): FailureAnswer | undefined {
  if (message.type === 'request') {
    const request = message as DebugProtocol.Request;
    if (typeof request.seq !== 'number') return undefined;
    const text = 'the relay failed to handle this request (INTERNAL) and did not forward it; the session goes on';
    return { toward: oppositeDirection(direction), response: (seq) => dapErrorResponse(request, seq, text, 'INTERNAL') };
  }
  if (message.type === 'response') {
    const answered = message as DebugProtocol.Response;
    if (typeof answered.request_seq !== 'number' || ownRequest(answered.request_seq)) return undefined;
    const text = 'the relay failed to handle the answer to this request (INTERNAL) and dropped it; the session goes on';
    return { toward: direction, response: (seq) => dapErrorResponse({ seq: answered.request_seq, command: answered.command }, seq, text, 'INTERNAL') };
  }
  return undefined;
}
