/** Why a relay is not ready: still starting, draining before shutdown, or closed. */
export type NotReadyReason = 'starting' | 'draining' | 'closed';

/**
 * The relay's readiness as `/readyz` reports it (docs/operations.md "Metrics and
 * health"): ready once its configuration is loaded and every listener is up, and not
 * ready again while it drains (a load balancer then sends no new clients or agents)
 * or after it closed. Liveness (`/healthz`) is separate: a draining relay is alive.
 */
export class Readiness {
  private listening = false;
  private draining = false;
  private closed = false;

  /** Every configured listener accepts connections. */
  markListening(): void {
    this.listening = true;
  }

  /** Starts (or, with `false`, ends) draining: `/readyz` answers 503 meanwhile. */
  setDraining(draining = true): void {
    this.draining = draining;
  }

  /** The relay is closing or closed; it never becomes ready again. */
  markClosed(): void {
    this.closed = true;
  }

  /** Why the relay is not ready, or undefined when it is. */
  get notReadyReason(): NotReadyReason | undefined {
    if (this.closed) return 'closed';
    if (!this.listening) return 'starting';
    if (this.draining) return 'draining';
    return undefined;
  }

  /** True when `/readyz` answers 200. */
  get ready(): boolean {
    return this.notReadyReason === undefined;
  }
}
