import type { Logger } from '../log/logger.js';
import type { LifecycleState } from './lifecycleLimits.js';
import type { Readiness } from './readiness.js';

/** The agent side as a drain sees it: every agent can be told to go away. */
export interface DrainableAgents {
  goAwayAll(reason: string, retryAfterMs: number): void;
}

/** The sessions as a drain sees it: each can be told why it ends, and all can be awaited. */
export interface DrainableSessions {
  /** Sends `message` to every running session; returns how many there are. */
  notifyAll(message: string): number;
  /** Resolves when no session runs. */
  idle(): Promise<void>;
}

/** What a drain acts on. */
export interface DrainParts {
  readonly readiness: Readiness;
  readonly lifecycle: LifecycleState;
  readonly hub: DrainableAgents;
  readonly broker: DrainableSessions;
  readonly logger: Logger;
  /** Bound on detaching one session (`sessions.detachTimeoutMs`), taken out of the grace period. */
  readonly detachTimeoutMs: number;
  /** How long an agent told to go away waits at least before it dials again (`lifecycle.goawayRetryAfterMs`). */
  readonly goawayRetryAfterMs: number;
  /** Closes the relay (detaches and closes every session, then the listeners). */
  readonly close: () => Promise<void>;
}

/**
 * Drains the relay before it stops (docs/operations.md "Drain and shutdown"):
 * `/readyz` turns 503 at once, new agents and sessions are refused with
 * `RELAY_DRAINING`, every agent gets `goaway` (it reconnects later, possibly to another
 * instance), and every running session is told in a DAP `output` event when it will be
 * detached. When all sessions ended, or the grace period minus the time reserved for
 * detaching is over, or `cutShort` aborts, the relay closes: every session detaches its
 * debugger (the program keeps running). Resolves when the relay is closed, within
 * `graceMs` unless a detach takes longer than its own bound.
 */
export async function drainRelay(parts: DrainParts, graceMs: number, cutShort: AbortSignal): Promise<void> {
  const { readiness, lifecycle, hub, broker, logger } = parts;
  readiness.setDraining(true);
  lifecycle.drain();
  hub.goAwayAll('the relay is shutting down', parts.goawayRetryAfterMs);
  const reserveMs = Math.min(parts.detachTimeoutMs, Math.floor(graceMs / 2));
  const waitMs = Math.max(0, graceMs - reserveMs);
  const at = new Date(Date.now() + waitMs);
  const sessions = broker.notifyAll(
    `the relay is shutting down; this session will be detached at ${at.toISOString()} (in ${Math.round(waitMs / 1000)} s) unless it ends before; the program keeps running`,
  );
  logger.info({ graceMs, sessions, detachAt: at.toISOString() }, 'draining');
  if (sessions > 0 && !cutShort.aborted) {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    await Promise.race([
      broker.idle(),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs))),
      new Promise<void>((resolve) => cutShort.addEventListener('abort', (onAbort = () => resolve()), { once: true })),
    ]);
    clearTimeout(timer);
    if (onAbort) cutShort.removeEventListener('abort', onAbort);
  }
  await parts.close();
}
