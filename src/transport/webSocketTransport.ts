import type { RawData, WebSocket } from 'ws';
import { CloseSignal } from './closeSignal.js';
import { closeGraceMs, sendHighWaterBytes, type Transport } from './transport.js';

/** Turns ws's `RawData` (Buffer, Buffer[] or ArrayBuffer) into one Buffer. */
export function rawDataToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * {@link Transport} over binary WebSocket frames (docs/protocol.md §3: DAP bytes in
 * binary frames, chunked arbitrarily). Text frames on a data connection are a
 * protocol error and close it.
 */
export class WebSocketTransport implements Transport {
  readonly kind = 'wss' as const;
  private readonly closeSignal = new CloseSignal();
  private dataListener: ((chunk: Buffer) => void) | undefined;
  private early: Buffer[] = [];
  private full = false;
  private readonly drainListeners: Array<() => void> = [];

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
      const chunk = rawDataToBuffer(data);
      if (this.dataListener) this.dataListener(chunk);
      else this.early.push(chunk);
    });
    ws.on('error', (error) => this.closeSignal.fire(error));
    ws.on('close', () => this.closeSignal.fire());
  }

  get closed(): boolean {
    return this.closeSignal.fired || this.ws.readyState >= 2;
  }

  send(data: Buffer): boolean {
    if (this.ws.readyState !== 1) return true;
    // ws has no 'drain' event: the send callback runs once the frame is written out,
    // which is when the queue may have fallen back under the mark.
    this.ws.send(data, { binary: true }, () => {
      if (this.full && this.ws.bufferedAmount < sendHighWaterBytes) {
        this.full = false;
        for (const listener of this.drainListeners) listener();
      }
    });
    if (this.ws.bufferedAmount >= sendHighWaterBytes) this.full = true;
    return !this.full;
  }

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
    this.dataListener = listener;
    const early = this.early;
    this.early = [];
    for (const chunk of early) listener(chunk);
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
