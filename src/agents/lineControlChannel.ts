import type { TLSSocket } from 'node:tls';
import type { JsonDepthBound } from '../common/jsonDepth.js';
import { RelayError } from '../common/relayError.js';
import { controlErrorFor, type ControlChannel } from './controlChannel.js';
import { ControlChannelBase, controlCloseGraceMs, parseControlMessage } from './controlChannelBase.js';

/**
 * {@link ControlChannel} over a TLS socket: one JSON object per `\n`-terminated line
 * (docs/protocol.md §4, op `agent`). A line longer than `maxLineBytes` or one that is
 * not a JSON object (or nests deeper than `jsonDepth.maxDepth`) closes the channel
 * with `MESSAGE_TOO_LARGE` / `BAD_REQUEST`.
 */
export class LineControlChannel extends ControlChannelBase implements ControlChannel {
  readonly kind = 'tcps' as const;
  readonly remoteAddress: string;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;

  /** Takes over `socket` (paused or not); `leftover` holds bytes read past the hello line. */
  constructor(
    private readonly socket: TLSSocket,
    private readonly maxLineBytes: number,
    leftover?: Buffer,
    private readonly jsonDepth?: JsonDepthBound,
  ) {
    super();
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

  close(error?: RelayError): void {
    if (this.closeSignal.fired || this.socket.destroyed) return;
    if (error && !this.closeError) this.closeError = error;
    if (error) this.send(controlErrorFor(error));
    this.socket.end();
    setTimeout(() => this.socket.destroy(), controlCloseGraceMs).unref();
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
      if (line.toString('utf8').trim() !== '' && !this.deliverLine(line)) return;
      if (this.closeSignal.fired) return;
    }
    const rest = chunk.subarray(start);
    if (rest.length === 0) return;
    this.buffered.push(rest);
    this.bufferedBytes += rest.length;
    if (this.bufferedBytes > this.maxLineBytes) this.fail(this.tooLarge());
  }

  private deliverLine(line: Buffer): boolean {
    const message = parseControlMessage(line.toString('utf8'), this.jsonDepth);
    if (message instanceof RelayError) {
      this.fail(message);
      return false;
    }
    this.deliver(message);
    return true;
  }

  private tooLarge(): RelayError {
    return new RelayError('MESSAGE_TOO_LARGE', `control message exceeds ${this.maxLineBytes} bytes (limits.maxControlMessageBytes)`);
  }

  private fail(error: RelayError): void {
    this.socket.pause();
    this.close(error);
  }
}
