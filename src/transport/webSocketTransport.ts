import type { RawData, WebSocket } from 'ws';
import { CloseSignal } from './closeSignal.js';
import { InboundChunks } from './inboundChunks.js';
import { receiverFailure } from './receiverFailure.js';
import { closeGraceMs, sendHighWaterBytes, type Transport } from './transport.js';

/** Turns ws's `RawData` (Buffer, Buffer[] or ArrayBuffer) into one Buffer. */
export function rawDataToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** The options of every frame the transport sends. */
const binaryFrame = Object.freeze({ binary: true });

/**
 * {@link Transport} over binary WebSocket frames (docs/protocol.md §3: DAP bytes in
 * binary frames, chunked arbitrarily). Text frames on a data connection are a
 * protocol error and close it.
 */
export class WebSocketTransport implements Transport {
  readonly kind = 'wss' as const;
  private readonly closeSignal = new CloseSignal();
  private readonly inbound = new InboundChunks((error) => {
    this.closeSignal.fire(receiverFailure(error));
    this.destroy();
  });
  private full = false;
  private readonly drainListeners: Array<() => void> = [];
  private readonly heardListeners: Array<() => void> = [];

  constructor(
    private readonly ws: WebSocket,
    readonly remoteAddress: string,
  ) {
    const underlying = (ws as unknown as { _socket?: { setNoDelay?: (v: boolean) => void } })._socket;
    underlying?.setNoDelay?.(true);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) {
        ws.close(1003, 'DAP bytes travel in binary frames');
        return;
      }
      this.heard();
      const chunk = rawDataToBuffer(data);
      this.inbound.deliver(chunk);
    });
    ws.on('pong', () => this.heard());
    ws.on('error', (error) => this.closeSignal.fire(error));
    ws.on('close', () => this.closeSignal.fire());
  }

  /** Calls `listener` whenever a data frame or a pong arrives from the peer (its liveness, see `src/liveness/`). */
  onHeard(listener: () => void): void {
    this.heardListeners.push(listener);
  }

  /** Sends a WebSocket ping; the peer's WebSocket library answers it by itself. */
  ping(): void {
    this.ws.ping();
  }

  /** Ends the connection at once, telling the close listeners `error`. */
  fail(error: Error): void {
    this.closeSignal.fire(error);
    this.ws.terminate();
  }

  private heard(): void {
    for (const listener of this.heardListeners) listener();
  }

  get closed(): boolean {
    return this.closeSignal.fired || this.ws.readyState >= 2;
  }

  send(data: Buffer): boolean {
    if (this.ws.readyState !== 1) return true;
    this.ws.send(data, binaryFrame, this.written);
    if (this.ws.bufferedAmount >= sendHighWaterBytes) this.full = true;
    return !this.full;
  }

  /**
   * ws has no 'drain' event: the send callback runs once the frame is written out,
   * which is when the queue may have fallen back under the mark. One function for
   * every frame, so that sending allocates no closure.
   */
  private readonly written = (): void => {
    if (this.full && this.ws.bufferedAmount < sendHighWaterBytes) {
      this.full = false;
      for (const listener of this.drainListeners) listener();
    }
  };

  onDrain(listener: () => void): void {
    this.drainListeners.push(listener);
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.inbound.setListener(listener);
  }

  onClose(listener: (error?: Error) => void): void {
    this.closeSignal.add(listener);
  }

  close(): void {
    if (this.ws.readyState <= 1) this.ws.close(1000);
    setTimeout(() => this.ws.terminate(), closeGraceMs).unref();
  }

  destroy(): void {
    this.ws.terminate();
  }
}
