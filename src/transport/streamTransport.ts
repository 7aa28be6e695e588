import type { Duplex } from 'node:stream';
import { CloseSignal } from './closeSignal.js';
import { InboundChunks } from './inboundChunks.js';
import { receiverFailure } from './receiverFailure.js';
import { closeGraceMs, type Transport, type TransportKind } from './transport.js';

/**
 * {@link Transport} over any Node duplex stream: an SSH channel (`direct-tcpip` to a
 * host's debugpy, `forwarded-tcpip` from an `ssh -R` client) or another stream that
 * is not a socket. Ending: a peer that half-closes has nothing more to say in DAP,
 * so our side ends too.
 */
export class StreamTransport implements Transport {
  private readonly closeSignal = new CloseSignal();
  private readonly inbound = new InboundChunks((error) => {
    this.closeSignal.fire(receiverFailure(error));
    this.destroy();
  });

  constructor(
    private readonly stream: Duplex,
    readonly kind: TransportKind,
    /** Peer for logs (e.g. `ssh:db-1:22→127.0.0.1:5678`), never a credential. */
    readonly remoteAddress: string,
  ) {
    stream.on('data', (chunk: Buffer) => {
      this.inbound.deliver(chunk);
    });
    stream.on('error', (error: Error) => this.closeSignal.fire(error));
    stream.on('close', () => this.closeSignal.fire());
    stream.on('end', () => {
      stream.end();
      // Some streams (ssh2 channels) only emit 'close' once both sides ended.
      setTimeout(() => this.destroy(), closeGraceMs).unref();
    });
  }

  get closed(): boolean {
    return this.closeSignal.fired || this.stream.destroyed;
  }

  send(data: Buffer): boolean {
    if (this.closed || !this.stream.writable) return true;
    return this.stream.write(data);
  }

  onDrain(listener: () => void): void {
    this.stream.on('drain', listener);
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.inbound.setListener(listener);
  }

  onClose(listener: (error?: Error) => void): void {
    this.closeSignal.add(listener);
  }

  close(): void {
    this.stream.end();
    setTimeout(() => this.destroy(), closeGraceMs).unref();
  }

  destroy(): void {
    this.stream.destroy();
    // A stream that emits no 'close' on destroy still counts as closed.
    this.closeSignal.fire();
  }
}
