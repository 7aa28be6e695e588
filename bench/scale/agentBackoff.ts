/**
 * The agent's reconnect delays (docs/protocol.md §5, agent-py/dbgrelay/backoff.py),
 * so that simulated agents come back as real ones do: a fast-retry window, then full
 * jitter up to the cap.
 */
export class AgentBackoff {
  private attempts = 0;

  constructor(
    private readonly base = 0.5,
    private readonly cap = 5,
    private readonly fastAttempts = 3,
    private readonly fastMax = 0.25,
  ) {}

  /** Milliseconds to wait before the next attempt. */
  nextDelayMs(): number {
    const attempt = this.attempts++;
    const ceiling = attempt < this.fastAttempts ? this.fastMax : Math.min(this.cap, this.base * 2 ** Math.min(64, attempt - this.fastAttempts));
    return Math.random() * ceiling * 1000;
  }

  /** After a registration. */
  reset(): void {
    this.attempts = 0;
  }
}
