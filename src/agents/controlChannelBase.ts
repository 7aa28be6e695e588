import { parseBoundedJson, type JsonDepthBound } from '../common/jsonDepth.js';
import { RelayError } from '../common/relayError.js';
import { CloseSignal } from '../transport/closeSignal.js';
import { receiverFailure } from '../transport/receiverFailure.js';
import type { ControlChannel } from './controlChannel.js';

/**
 * How long a closing control channel waits for the peer before destroying its
 * connection: 2 s lets a last `error` or `goaway` reach the agent, and bounds what an
 * agent that never closes can hold.
 */
export const controlCloseGraceMs = 2_000;

/**
 * Parses one control message (docs/protocol.md §5): a JSON object nested at most
 * `depth.maxDepth` levels deep (default 64), or the `BAD_REQUEST` error that closes
 * the channel.
 */
export function parseControlMessage(text: string, depth?: JsonDepthBound): object | RelayError {
  let message: unknown;
  try {
    message = parseBoundedJson(text, 'control message', depth);
  } catch (error) {
    return error as RelayError;
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return new RelayError('BAD_REQUEST', 'control message is not a JSON object');
  }
  return message;
}

/**
 * What every {@link ControlChannel} shares: messages that arrive before a listener is
 * registered are held for it, and the close is reported once, with the error that
 * caused it if any.
 */
export abstract class ControlChannelBase implements Pick<ControlChannel, 'onMessage' | 'onClose'> {
  private listener: ((message: unknown) => void) | undefined;
  private readonly early: unknown[] = [];
  protected readonly closeSignal = new CloseSignal<RelayError>();
  protected closeError: RelayError | undefined;

  onMessage(listener: (message: unknown) => void): void {
    this.listener = listener;
    for (const message of this.early.splice(0)) this.handTo(listener, message);
  }

  /** Closes the channel, sending an `error` message first when `error` is given. */
  abstract close(error?: RelayError): void;

  onClose(listener: (error?: RelayError) => void): void {
    this.closeSignal.add(listener);
  }

  /** Hands a received message to the listener, or holds it until there is one. */
  protected deliver(message: unknown): void {
    if (this.listener) this.handTo(this.listener, message);
    else this.early.push(message);
  }

  /**
   * Runs the listener inside the socket's event handler: whatever it throws ends this
   * channel (with that error, or `INTERNAL`), never the process and its other agents.
   */
  private handTo(listener: (message: unknown) => void, message: unknown): void {
    try {
      listener(message);
    } catch (error) {
      this.close(receiverFailure(error));
    }
  }

  /** Reports the close to the listeners (once). */
  protected finish(): void {
    this.closeSignal.fire(this.closeError);
  }
}
