import type { RelayError } from '../common/relayError.js';
import { controlErrorFor, type ControlChannel } from './controlChannel.js';
import { CloseSignal } from '../transport/closeSignal.js';

/**
 * In-memory {@link ControlChannel} pair for unit tests. Messages are delivered on a
 * microtask (so fake timers do not hold them back) as JSON round trips.
 */
export class MemoryControlChannel implements ControlChannel {
  readonly remoteAddress = 'memory';
  private listener: ((message: unknown) => void) | undefined;
  private readonly early: unknown[] = [];
  private readonly closeSignal = new CloseSignal<RelayError>();
  private peer: MemoryControlChannel | undefined;
  private closeError: RelayError | undefined;

  private constructor(readonly kind: 'wss' | 'tcps') {}

  /** Two connected channels: `[relaySide, agentSide]`. */
  static pair(kind: 'wss' | 'tcps' = 'tcps'): [MemoryControlChannel, MemoryControlChannel] {
    const a = new MemoryControlChannel(kind);
    const b = new MemoryControlChannel(kind);
    a.peer = b;
    b.peer = a;
    return [a, b];
  }

  get closed(): boolean {
    return this.closeSignal.fired;
  }

  send(message: object): void {
    if (this.closeSignal.fired) return;
    const copy: unknown = JSON.parse(JSON.stringify(message));
    const peer = this.peer;
    queueMicrotask(() => peer?.receive(copy));
  }

  onMessage(listener: (message: unknown) => void): void {
    this.listener = listener;
    for (const message of this.early.splice(0)) listener(message);
  }

  onClose(listener: (error?: RelayError) => void): void {
    this.closeSignal.add(listener);
  }

  close(error?: RelayError): void {
    if (this.closeSignal.fired) return;
    if (error) {
      this.closeError = error;
      this.send(controlErrorFor(error));
    }
    queueMicrotask(() => queueMicrotask(() => {
      this.finish();
      this.peer?.finish();
    }));
  }

  private receive(message: unknown): void {
    if (this.closeSignal.fired) return;
    if (this.listener) this.listener(message);
    else this.early.push(message);
  }

  private finish(): void {
    this.closeSignal.fire(this.closeError);
  }
}
