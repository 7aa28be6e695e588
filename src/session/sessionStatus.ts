import type { PolicyName } from '../config/guardrailsConfigSchema.js';

/** A running session as the web console shows it (epoch ms times). */
export interface SessionStatus {
  readonly policy: PolicyName;
  readonly openedAt: number;
  /** When the debuggee stopped; absent while it runs. */
  readonly pausedSince?: number;
}

/**
 * How an administrator's resume of a session ended: debugpy resumed the program, the
 * program was not stopped (nothing was sent), debugpy refused the `continue` or did
 * not answer in time, or another action on the session was still under way.
 */
export type ResumeOutcome = 'resumed' | 'notStopped' | 'refused' | 'busy';
