import type { AuditSink } from '../audit/auditEvent.js';
import type { PauseState } from './pauseState.js';

/** Options of a {@link PauseWatchdog}. */
export interface PauseWatchdogOptions {
  /** Longest the debuggee may stay stopped (config `pauseWatchdog.maxPauseMs` or a target rule); > 0. */
  readonly maxPauseMs: number;
  /** Best-effort audit sink (a resume happens whether or not it is recorded). */
  readonly audit: AuditSink;
  /** Called after each resume the watchdog sent (tests, metrics). */
  readonly onResume?: (threadId: number) => void;
  /** How long debugpy has to answer the watchdog's `continue` (config `sessions.detachTimeoutMs`). */
  readonly answerTimeoutMs: number;
  /**
   * Debugpy refused the watchdog's `continue`, or did not answer it within
   * {@link answerTimeoutMs}, and the debuggee is still stopped: the owner ends the
   * session, whose detach (`disconnect`, or closing the adapter's connection, which the
   * guard inside the debuggee answers) resumes the program. `why` says which.
   */
  readonly onStuck: (why: string) => void;
}

/**
 * Never leave a process paused for long: after a `stopped` event that is not followed
 * by a resume (a successful `continue`/step response, a `continued` event, or the end
 * of the program) within `maxPauseMs`, the watchdog resumes the debuggee through the
 * session's {@link PauseState} (debugpy gets `continue` for all threads; the client an
 * `output` and a `continued` event) and records `watchdog.resumed`. One watchdog per
 * session, since each session (main or subprocess) debugs its own process. A pause the
 * watchdog resumed and debugpy did not end arms it again at the next `stopped` event.
 * When debugpy refuses that `continue` or does not answer it in time, the watchdog does
 * not stop there: it hands the pause to its owner ({@link PauseWatchdogOptions.onStuck}),
 * which ends the session so that the detach resumes the program.
 */
export class PauseWatchdog {
  private timer: NodeJS.Timeout | undefined;
  private stoppedAt = 0;
  private disposed = false;

  constructor(
    private readonly options: PauseWatchdogOptions,
    private readonly pause: PauseState,
  ) {
    pause.watch({ stopped: () => this.onStopped(), running: () => this.disarm() });
  }

  /** True while the debuggee is stopped and the watchdog's timer runs. */
  get armed(): boolean {
    return this.timer !== undefined;
  }

  /** Stops the timer for good (the session ended). */
  dispose(): void {
    this.disposed = true;
    this.disarm();
  }

  private onStopped(): void {
    if (this.disposed || this.timer) return; // the pause already counts from the first stop
    this.stoppedAt = Date.now();
    this.timer = setTimeout(() => this.resume(), this.options.maxPauseMs);
    this.timer.unref?.();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private resume(): void {
    this.timer = undefined;
    if (this.disposed || this.pause.pausedSince === undefined) return;
    const { maxPauseMs } = this.options;
    const pausedMs = Date.now() - this.stoppedAt;
    const threadId = this.pause.stoppedThread;
    try {
      this.options.audit.record({ event: 'watchdog.resumed', threadId, pausedMs, maxPauseMs });
    } catch {
      // Resuming matters more than recording it; the session log has it too.
    }
    let answered = false;
    const sent = this.pause.resume(
      `the debuggee was paused for ${Math.round(pausedMs / 1000)} s, longer than this target allows (${maxPauseMs} ms, pauseWatchdog); the relay resumed it`,
      (resumed) => {
        answered = true;
        clearTimeout(noAnswer);
        if (resumed) this.options.onResume?.(threadId);
        else this.stuck('debugpy refused the continue');
      },
    );
    if (!sent) return;
    const noAnswer = setTimeout(() => {
      if (!answered) this.stuck(`debugpy did not answer the continue within ${this.options.answerTimeoutMs} ms`);
    }, this.options.answerTimeoutMs);
    noAnswer.unref?.();
  }

  /** The watchdog's `continue` did not resume a debuggee that is still stopped. */
  private stuck(why: string): void {
    if (this.disposed || this.pause.pausedSince === undefined) return;
    this.options.onStuck(why);
  }
}
