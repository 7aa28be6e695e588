import { hasRole, matchesPattern } from '../auth/grants.js';
import type { Principal } from '../auth/principal.js';
import { RelayError } from '../common/relayError.js';
import type { TargetInfo } from '../protocol/controlMessages.js';

/**
 * The target list `principal` may see (docs/protocol.md §7): every target for
 * `admin`; for a client, only the targets one of its `attach:` patterns matches (a
 * principal learns nothing about targets it cannot attach to). Anyone else (an agent
 * credential) is refused with `AUTH_FAILED`.
 */
export function visibleTargets(principal: Principal, targets: readonly TargetInfo[]): TargetInfo[] {
  if (principal.grants.admin) return [...targets];
  if (!hasRole(principal, 'client')) throw new RelayError('AUTH_FAILED', 'credential does not allow listing targets (needs admin or an attach scope)');
  return targets.filter((target) => principal.grants.attach.some((pattern) => matchesPattern(pattern, target.name)));
}
