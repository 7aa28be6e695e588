import type { RelayError } from '../common/relayError.js';
import { controlErrorFor, type ControlChannel } from './controlChannel.js';
import { ControlChannelBase } from './controlChannelBase.js';

/**
 * In-memory {@link ControlChannel} pair for unit tests. Messages are delivered on a
 * microtask (so fake timers do not hold them back) as JSON round trips.
 */
export class MemoryControlChannel extends ControlChannelBase implements ControlChannel {
  readonly remoteAddress = 'memory';
  private peer: MemoryControlChannel | undefined;

  private constructor(readonly kind: 'wss' | 'tcps') {
    super();
  }

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

  close(error?: RelayError): void {
    if (this.closeSignal.fired) return;
    if (error) {
      this.closeError = error;
      this.send(controlErrorFor(error));
    }
    queueMicrotask(() =>
      queueMicrotask(() => {
        this.finish();
        this.peer?.finish();
      }),
    );
  }

  private receive(message: unknown): void {
    if (!this.closeSignal.fired) this.deliver(message);
  }
}
