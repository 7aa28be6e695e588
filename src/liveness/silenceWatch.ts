import { RelayError } from '../common/relayError.js';

/** What a {@link SilenceWatch} does on its ticks. */
export interface SilenceWatchOptions {
  /** Silence after which the peer counts as gone. */
  readonly timeoutMs: number;
  /** How often to look (and to call `onTick`). */
  readonly tickMs: number;
  /** Called on each tick while the peer is not yet silent too long (e.g. to send a ping). */
  readonly onTick?: () => void;
  /** Called once with a `HEARTBEAT_TIMEOUT` error naming the silence when the timeout passed. */
  readonly onSilent: (error: RelayError) => void;
}

/**
 * Finds a half-open peer: {@link heard} notes that something arrived; when nothing
 * did for `timeoutMs`, `onSilent` is called once and the watch stops.
 */
export class SilenceWatch {
  private lastHeard = performance.now();
  private held = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly peer: string,
    private readonly options: SilenceWatchOptions,
  ) {
    this.timer = setInterval(() => this.tick(), options.tickMs);
    this.timer.unref();
  }

  /** Something arrived from the peer. */
  heard(): void {
    this.lastHeard = performance.now();
  }

  /**
   * While held (the local side stopped reading the peer, e.g. for backpressure), the
   * peer's silence is ours, not its own: it does not count, and the clock starts
   * afresh on release.
   */
  hold(held: boolean): void {
    this.held = held;
    this.lastHeard = performance.now();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    if (this.held) this.lastHeard = performance.now();
    const silentMs = performance.now() - this.lastHeard;
    if (silentMs < this.options.timeoutMs) {
      this.options.onTick?.();
      return;
    }
    this.stop();
    this.options.onSilent(new RelayError('HEARTBEAT_TIMEOUT', `nothing heard from ${this.peer} for ${Math.round(silentMs)} ms (limit ${this.options.timeoutMs} ms)`));
  }
}
