/**
 * A transport only moves bytes (style.md: transport → DAP connection → session).
 * Implementations: {@link SocketTransport} (TCP or TLS socket), {@link WebSocketTransport}
 * (binary WebSocket frames) and {@link MemoryTransport} (tests).
 */
export interface Transport {
  /** What carries the bytes, for logs and metrics. */
  readonly kind: TransportKind;
  /** Peer address for logs (`ip:port`), never a credential. */
  readonly remoteAddress: string;
  /** Queues bytes for the peer. Bytes sent after close are dropped. */
  send(data: Buffer): void;
  /** Registers the receiver of incoming bytes; there is exactly one. */
  onData(listener: (chunk: Buffer) => void): void;
  /** Registers a listener called once when the transport is closed for any reason. */
  onClose(listener: (error?: Error) => void): void;
  /** Flushes queued bytes, then closes. */
  close(): void;
  /** Closes at once, dropping queued bytes (peer sees a reset where the carrier allows). */
  destroy(): void;
  /** True once closed. */
  readonly closed: boolean;
}

/** The carriers a {@link Transport} may use. */
export type TransportKind = 'wss' | 'tcps' | 'tcp' | 'memory';
