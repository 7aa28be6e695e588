import type { RelayError } from '../common/relayError.js';

/**
 * A message-oriented control connection between relay and agent (docs/protocol.md §5):
 * WebSocket text frames ({@link WebSocketControlChannel}) or newline-delimited JSON
 * over TLS ({@link LineControlChannel}). The channel only moves JSON objects; what
 * they mean is up to {@link AgentConnection}.
 */
export interface ControlChannel {
  /** Carrier, reported in the target list. */
  readonly kind: 'wss' | 'tcps';
  /** Peer address for logs. */
  readonly remoteAddress: string;
  /** Sends one message. Dropped after close. */
  send(message: object): void;
  /** Registers the receiver of incoming messages (parsed JSON values); there is one. */
  onMessage(listener: (message: unknown) => void): void;
  /**
   * Registers a listener called once when the channel closes, with the error that
   * closed it (a malformed or oversized message, or one given to {@link close}).
   */
  onClose(listener: (error?: RelayError) => void): void;
  /** Sends an `error` message when `error` is given, then closes. */
  close(error?: RelayError): void;
  readonly closed: boolean;
}

/** The `error` control message for `error`. */
export function controlErrorFor(error: RelayError): object {
  return { type: 'error', code: error.code, message: error.message };
}
