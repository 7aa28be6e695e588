import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { CloseSignal } from './closeSignal.js';
import { InboundChunks } from './inboundChunks.js';
import { receiverFailure } from './receiverFailure.js';
import { closeGraceMs, keepAliveDelayMs, type Transport, type TransportKind } from './transport.js';

/**
 * {@link Transport} over a TCP or TLS socket. Sets `TCP_NODELAY`: DAP is
 * request/response traffic of small messages where Nagle's algorithm with delayed
 * ACKs costs tens of milliseconds per message.
 */
export class SocketTransport implements Transport {
  readonly remoteAddress: string;
  private readonly closeSignal = new CloseSignal();
  private readonly inbound = new InboundChunks((error) => {
    this.closeSignal.fire(receiverFailure(error));
    this.destroy();
  });

  constructor(
    private readonly socket: Socket | TLSSocket,
    readonly kind: TransportKind,
    leftover?: Buffer,
  ) {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, keepAliveDelayMs);
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    if (leftover && leftover.length > 0) this.inbound.deliver(leftover);
    socket.on('data', (chunk: Buffer) => this.inbound.deliver(chunk));
    // A handshake reader may have paused the socket so no byte was lost; flow from here on.
    socket.resume();
    socket.on('error', (error) => this.closeSignal.fire(error));
    socket.on('close', () => this.closeSignal.fire());
    // A peer that half-closes has nothing more to say in DAP: end our side too.
    socket.on('end', () => socket.end());
  }

  get closed(): boolean {
    return this.closeSignal.fired || this.socket.destroyed;
  }

  send(data: Buffer): boolean {
    if (this.closed || !this.socket.writable) return true;
    return this.socket.write(data);
  }

  onDrain(listener: () => void): void {
    this.socket.on('drain', listener);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.inbound.setListener(listener);
  }

  onClose(listener: (error?: Error) => void): void {
    this.closeSignal.add(listener);
  }

  close(): void {
    this.socket.end();
    setTimeout(() => this.socket.destroy(), closeGraceMs).unref();
  }

  destroy(): void {
    if ('resetAndDestroy' in this.socket && typeof this.socket.resetAndDestroy === 'function' && !('encrypted' in this.socket)) {
      this.socket.resetAndDestroy();
    } else {
      this.socket.destroy();
    }
  }
}
