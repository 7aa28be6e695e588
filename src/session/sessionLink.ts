import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DapMessage } from '../dap/dapMessage.js';

/**
 * How the relay's own session logic (watchdog, policy refusals, detach) talks to both
 * sides of a session outside of an interceptor call, with sequence numbers of its own.
 */
export interface SessionLink {
  sendToClient(message: DapMessage): void;
  sendToAdapter(message: DapMessage): void;
  /**
   * A fresh `seq` for a message the relay originates. The relay's numbers start far
   * above any client's (which count up from 1) and below the client-side rewriter's
   * range (0x4000_0000), so the adapter can tell every request's answer apart.
   */
  nextSeq(): number;
}

/** First `seq` of the relay's own messages (see {@link SessionLink.nextSeq}). */
export const relaySeqBase = 0x2000_0000;

/**
 * A {@link SessionLink} created before the pipe it talks through (interceptors are built
 * first); messages sent before {@link bind} are dropped.
 */
export class LateSessionLink implements SessionLink {
  private target: Pick<SessionLink, 'sendToClient' | 'sendToAdapter'> | undefined;
  private seq = relaySeqBase;

  /** Connects the link to the pipe (or anything that sends both ways). */
  bind(target: Pick<SessionLink, 'sendToClient' | 'sendToAdapter'>): void {
    this.target = target;
  }

  sendToClient(message: DapMessage): void {
    this.target?.sendToClient(message);
  }

  sendToAdapter(message: DapMessage): void {
    this.target?.sendToAdapter(message);
  }

  nextSeq(): number {
    return this.seq++;
  }
}

/** A DAP error response to `request` whose message says why dbgrelay refused it. */
export function refusalResponse(request: DebugProtocol.Request, seq: number, message: string): DebugProtocol.Response {
  return {
    type: 'response',
    seq,
    request_seq: request.seq,
    command: request.command,
    success: false,
    // No `body.error`: its `format` is a template where braces are placeholders.
    message: `dbgrelay: ${message}`,
  };
}

/**
 * A DAP `output` event from the relay (category `important` by default: VS Code shows
 * it prominently; `console` for notices that belong in the debug console).
 */
export function relayOutputEvent(seq: number, text: string, category: 'important' | 'console' = 'important'): DebugProtocol.OutputEvent {
  return { type: 'event', seq, event: 'output', body: { category, output: `dbgrelay: ${text}\n` } };
}
