/**
 * Ends a session nobody uses (`limits.sessionIdleTimeoutMs`): `touch()` on every DAP
 * message either way restarts the clock; after `timeoutMs` without one, `onIdle` runs
 * once. Transport keep-alives (WebSocket pings, the tcps heartbeat event of `src/liveness/`)
 * are not DAP messages of the session and must not be passed to `touch()`.
 */
export class IdleTimer {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    timeoutMs: number,
    private readonly onIdle: () => void,
  ) {
    if (timeoutMs > 0) {
      this.timer = setTimeout(() => this.fire(), timeoutMs);
      this.timer.unref();
    }
  }

  /** A DAP message crossed the session. */
  touch(): void {
    this.timer?.refresh();
  }

  /** Stops the clock for good. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    this.timer = undefined;
    this.onIdle();
  }
}
