import type { TLSSocket } from 'node:tls';
import { RelayError } from '../common/relayError.js';
import { controlErrorFor, type ControlChannel } from './controlChannel.js';
import { CloseSignal } from '../transport/closeSignal.js';

/** How long a closing channel waits for the peer before destroying the socket. */
const closeGraceMs = 2_000;

/**
 * {@link ControlChannel} over a TLS socket: one JSON object per `\n`-terminated line
 * (docs/protocol.md §4, op `agent`). A line longer than `maxLineBytes` or one that is
 * not a JSON object closes the channel with `MESSAGE_TOO_LARGE` / `BAD_REQUEST`.
 */
export class LineControlChannel implements ControlChannel {
  readonly kind = 'tcps' as const;
  readonly remoteAddress: string;
  private listener: ((message: unknown) => void) | undefined;
  private readonly early: unknown[] = [];
  private readonly closeSignal = new CloseSignal<RelayError>();
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private closeError: RelayError | undefined;

  /** Takes over `socket` (paused or not); `leftover` holds bytes read past the hello line. */
  constructor(
    private readonly socket: TLSSocket,
    private readonly maxLineBytes: number,
    leftover?: Buffer,
  ) {
    socket.setNoDelay(true);
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.finish());
    if (leftover && leftover.length > 0) this.receive(leftover);
    socket.resume();
  }

  get closed(): boolean {
    return this.closeSignal.fired || this.socket.destroyed;
  }

  send(message: object): void {
    if (!this.closed && this.socket.writable) this.socket.write(JSON.stringify(message) + '\n');
  }

  onMessage(listener: (message: unknown) => void): void {
    this.listener = listener;
    for (const message of this.early.splice(0)) listener(message);
  }

  onClose(listener: (error?: RelayError) => void): void {
    this.closeSignal.add(listener);
  }

  close(error?: RelayError): void {
    if (this.closeSignal.fired || this.socket.destroyed) return;
    if (error && !this.closeError) this.closeError = error;
    if (error) this.send(controlErrorFor(error));
    this.socket.end();
    setTimeout(() => this.socket.destroy(), closeGraceMs).unref();
  }

  private receive(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline < 0) break;
      const piece = chunk.subarray(start, newline);
      const line = this.bufferedBytes > 0 ? Buffer.concat([...this.buffered, piece]) : piece;
      this.buffered = [];
      this.bufferedBytes = 0;
      start = newline + 1;
      if (line.length > this.maxLineBytes) return this.fail(this.tooLarge());
      if (line.toString('utf8').trim() !== '' && !this.deliver(line)) return;
      if (this.closeSignal.fired) return;
    }
    const rest = chunk.subarray(start);
    if (rest.length === 0) return;
    this.buffered.push(rest);
    this.bufferedBytes += rest.length;
    if (this.bufferedBytes > this.maxLineBytes) this.fail(this.tooLarge());
  }

  private deliver(line: Buffer): boolean {
    let message: unknown;
    try {
      message = JSON.parse(line.toString('utf8'));
    } catch {
      this.fail(new RelayError('BAD_REQUEST', 'control message is not valid JSON'));
      return false;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      this.fail(new RelayError('BAD_REQUEST', 'control message is not a JSON object'));
      return false;
    }
    if (this.listener) this.listener(message);
    else this.early.push(message);
    return true;
  }

  private tooLarge(): RelayError {
    return new RelayError('MESSAGE_TOO_LARGE', `control message exceeds ${this.maxLineBytes} bytes (limits.maxControlMessageBytes)`);
  }

  private fail(error: RelayError): void {
    this.socket.pause();
    this.close(error);
  }

  private finish(): void {
    this.closeSignal.fire(this.closeError);
  }
}
