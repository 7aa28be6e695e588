import type { Transport } from '../transport/transport.js';

/** debugpy's adapter needs this long after a session ended before a new connect is safe (the agent's own value). */
export const defaultAdapterSettleMs = 600;

/**
 * Keeps connects to one debugpy adapter apart from the end of the previous session:
 * debugpy's adapter greets a new client on its accept thread and, if that write
 * races a closing session, stops serving the port (see agent-py's AdapterGate,
 * which does the same for agent targets). A connect waits until `settleMs` after
 * the last tracked connection closed; live sessions never block a connect, so a
 * subprocess session opens at once.
 */
export class AdapterSettle {
  private quietAt = 0;

  constructor(private readonly settleMs: number = defaultAdapterSettleMs) {}

  /** Resolves once a connect may start (at once when nothing closed lately); rejects when `signal` aborts. */
  quiet(signal?: AbortSignal): Promise<void> {
    const wait = this.quietAt - performance.now();
    if (wait <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        // Another session may have closed meanwhile: wait again if so.
        this.quiet(signal).then(resolve, reject);
      }, wait);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Starts the settling time when `transport` closes. */
  track(transport: Transport): void {
    transport.onClose(() => {
      this.quietAt = Math.max(this.quietAt, performance.now() + this.settleMs);
    });
  }
}
