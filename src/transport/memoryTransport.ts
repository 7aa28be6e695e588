import { CloseSignal } from './closeSignal.js';
import { InboundChunks } from './inboundChunks.js';
import type { Transport } from './transport.js';

/**
 * In-memory {@link Transport} pair for unit tests: bytes sent on one end arrive on
 * the other asynchronously, as over a socket.
 */
export class MemoryTransport implements Transport {
  readonly kind = 'memory' as const;
  private readonly closeSignal = new CloseSignal();
  private readonly inbound = new InboundChunks();
  private peer: MemoryTransport | undefined;
  private paused = false;
  private held: Buffer[] = [];

  constructor(readonly remoteAddress = 'memory') {}

  /** Two connected transports. */
  static pair(): [MemoryTransport, MemoryTransport] {
    const a = new MemoryTransport('memory:a');
    const b = new MemoryTransport('memory:b');
    a.peer = b;
    b.peer = a;
    return [a, b];
  }

  get closed(): boolean {
    return this.closeSignal.fired;
  }

  send(data: Buffer): boolean {
    if (this.closed) return true;
    const peer = this.peer;
    const copy = Buffer.from(data);
    setImmediate(() => peer?.receive(copy));
    return true;
  }

  onDrain(): void {
    // In memory, sends never back up.
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const chunk of held) this.receive(chunk);
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.inbound.setListener(listener);
  }

  onClose(listener: (error?: Error) => void): void {
    this.closeSignal.add(listener);
  }

  close(): void {
    setImmediate(() => {
      this.closeSignal.fire();
      this.peer?.closeSignal.fire();
    });
  }

  destroy(): void {
    this.close();
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    if (this.paused) {
      this.held.push(chunk);
      return;
    }
    this.inbound.deliver(chunk);
  }
}
