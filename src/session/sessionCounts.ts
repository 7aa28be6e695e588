import type { LifecycleState } from '../lifecycle/lifecycleLimits.js';

/**
 * Sessions per principal and per target, counted from admission (before the agent is
 * asked to open) to the end, subprocess sessions included, so that
 * `limits.maxSessionsPerPrincipal` and `limits.maxSessionsPerTarget` bound them.
 */
export class SessionCounts {
  private readonly byPrincipal = new Map<string, number>();
  private readonly byTarget = new Map<string, number>();

  /**
   * Counts one session of `principal` with `target`; throws `LIMIT_REACHED` when a
   * bound of `limits` is reached. Returns the (idempotent) release function.
   */
  admit(principal: string, target: string, limits: LifecycleState | undefined): () => void {
    if (limits) {
      limits.requireBelow('maxSessionsPerPrincipal', this.byPrincipal.get(principal) ?? 0, `sessions of ${principal}`);
      limits.requireBelow('maxSessionsPerTarget', this.byTarget.get(target) ?? 0, `sessions with target "${target}"`);
    }
    bump(this.byPrincipal, principal, 1);
    bump(this.byTarget, target, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      bump(this.byPrincipal, principal, -1);
      bump(this.byTarget, target, -1);
    };
  }
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const next = (map.get(key) ?? 0) + by;
  if (next <= 0) map.delete(key);
  else map.set(key, next);
}
