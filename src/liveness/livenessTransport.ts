import { CloseSignal } from '../transport/closeSignal.js';
import { SilenceWatch } from './silenceWatch.js';
import type { Transport } from '../transport/transport.js';

/**
 * A {@link Transport} that counts its peer as gone when no byte arrived for
 * `timeoutMs`: a half-open connection (the peer's host vanished without FIN or RST,
 * or the peer hangs) then closes with `HEARTBEAT_TIMEOUT` within the bound instead of
 * after the operating system's retransmission timeout. The peer keeps it alive with
 * traffic of its own or heartbeats (the tcps session heartbeat, docs/protocol.md §6).
 */
export class LivenessTransport implements Transport {
  private readonly closeSignal = new CloseSignal();
  private readonly silence: SilenceWatch;

  /**
   * @param heartbeatMs - how often this side must send a heartbeat so that the peer's
   *   own deadline holds (set on the client side of a tcps session; the pipe owner sends them).
   */
  constructor(
    private readonly inner: Transport,
    timeoutMs: number,
    private readonly onMissed?: () => void,
    readonly heartbeatMs?: number,
  ) {
    this.silence = new SilenceWatch(inner.remoteAddress, {
      timeoutMs,
      tickMs: Math.max(10, Math.min(1000, Math.floor(timeoutMs / 4))),
      onSilent: (error) => {
        if (this.closed) return;
        this.onMissed?.();
        this.closeSignal.fire(error);
        this.inner.destroy();
      },
    });
    inner.onClose((error) => {
      this.silence.stop();
      this.closeSignal.fire(error);
    });
  }

  get kind(): Transport['kind'] {
    return this.inner.kind;
  }

  get remoteAddress(): string {
    return this.inner.remoteAddress;
  }

  get closed(): boolean {
    return this.closeSignal.fired || this.inner.closed;
  }

  send(data: Buffer): boolean {
    return this.inner.send(data);
  }

  onDrain(listener: () => void): void {
    this.inner.onDrain(listener);
  }

  pause(): void {
    this.silence.hold(true);
    this.inner.pause();
  }

  resume(): void {
    this.silence.hold(false);
    this.inner.resume();
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.inner.onData((chunk) => {
      this.silence.heard();
      listener(chunk);
    });
  }

  onClose(listener: (error?: Error) => void): void {
    this.closeSignal.add(listener);
  }

  close(): void {
    this.inner.close();
  }

  destroy(): void {
    this.silence.stop();
    this.inner.destroy();
  }
}
