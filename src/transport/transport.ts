/**
 * A transport only moves bytes (layers: transport → DAP connection → session).
 * Implementations: {@link SocketTransport} (TCP or TLS socket), {@link WebSocketTransport}
 * (binary WebSocket frames) and {@link MemoryTransport} (tests).
 */
export interface Transport {
  /** What carries the bytes, for logs and metrics. */
  readonly kind: TransportKind;
  /** Peer address for logs (`ip:port`), never a credential. */
  readonly remoteAddress: string;
  /**
   * Queues bytes for the peer. Bytes sent after close are dropped. Returns false when
   * the queue is past the transport's high-water mark: the caller should stop reading
   * its source until {@link onDrain} fires (backpressure, so a slow peer cannot make
   * the relay buffer without bound).
   */
  send(data: Buffer): boolean;
  /** Registers a listener called each time the send queue falls back under the mark. */
  onDrain(listener: () => void): void;
  /** Stops delivering incoming bytes until {@link resume}. */
  pause(): void;
  resume(): void;
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

/**
 * Bytes queued for a WebSocket peer above which `send` reports backpressure (the
 * send high-water mark). 1 MiB keeps the link busy for a fast peer, while a slow peer
 * makes the relay buffer little more than this (and the message being sent) per
 * connection; sockets use their stream's own mark.
 */
export const sendHighWaterBytes = 1024 * 1024;

/**
 * Time a graceful close may take (flushing, waiting for the peer's close) before the
 * connection is destroyed, so that a peer that never closes cannot hold it open. 5 s
 * is ample to flush a last message over a slow link, short enough that a closed
 * session frees its socket promptly.
 */
export const closeGraceMs = 5_000;

/**
 * Idle time after which TCP keepalive probes start, so dead peers are found. 15 s
 * makes a quiet session connection carry traffic often enough that NATs and
 * firewalls which drop idle connections keep it, at a negligible cost.
 */
export const keepAliveDelayMs = 15_000;

/** The carriers a {@link Transport} may use. */
export type TransportKind = 'wss' | 'tcps' | 'tcp' | 'ssh' | 'memory';
