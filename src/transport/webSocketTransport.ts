import type { RawData, WebSocket } from 'ws';
import { CloseSignal } from './closeSignal.js';
import type { Transport } from './transport.js';

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

  send(data: Buffer): void {
    if (this.ws.readyState === 1) this.ws.send(data, { binary: true });
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
  }

  destroy(): void {
    this.ws.terminate();
  }
}
