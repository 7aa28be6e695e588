import type { RelayError } from '../common/relayError.js';
import { controlErrorFor, type ControlChannel } from './controlChannel.js';

/**
 * In-memory {@link ControlChannel} pair for unit tests. Messages are delivered on a
 * microtask (so fake timers do not hold them back) as JSON round trips.
 */
export class MemoryControlChannel implements ControlChannel {
  readonly remoteAddress = 'memory';
  private listener: ((message: unknown) => void) | undefined;
  private readonly early: unknown[] = [];
  private readonly closeListeners: Array<(error?: RelayError) => void> = [];
  private peer: MemoryControlChannel | undefined;
  private closeError: RelayError | undefined;
  private done = false;

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
    return this.done;
  }

  send(message: object): void {
    if (this.done) return;
    const copy: unknown = JSON.parse(JSON.stringify(message));
    const peer = this.peer;
    queueMicrotask(() => peer?.receive(copy));
  }

  onMessage(listener: (message: unknown) => void): void {
    this.listener = listener;
    for (const message of this.early.splice(0)) listener(message);
  }

  onClose(listener: (error?: RelayError) => void): void {
    if (this.done) queueMicrotask(() => listener(this.closeError));
    else this.closeListeners.push(listener);
  }

  close(error?: RelayError): void {
    if (this.done) return;
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
    if (this.done) return;
    if (this.listener) this.listener(message);
    else this.early.push(message);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    for (const listener of this.closeListeners.splice(0)) listener(this.closeError);
  }
}
