import { targetPatternCovers } from '../auth/grants.js';
import type { Principal } from '../auth/principal.js';
import type { AuditRecord } from '../audit/auditReader.js';
import type { TargetInfo } from '../protocol/controlMessages.js';
import { targetGroupOf } from '../protocol/targetName.js';
import type { SessionRecord } from '../session/sessionLedger.js';

/** True when `principal` may see what concerns target `name`: an admin sees all, an engineer the targets it may attach to. */
export function seesTarget(principal: Principal, name: string): boolean {
  return principal.grants.admin || principal.grants.attach.some((pattern) => targetPatternCovers(pattern, name));
}

/** A target as the console lists it: the listing's fields, plus its group (`web` for `web/12345`). */
export type ConsoleTarget = TargetInfo & { readonly group?: string };

/** The targets view: each target with its group. */
export function consoleTargets(targets: readonly TargetInfo[]): ConsoleTarget[] {
  return targets.map((target) => {
    const group = targetGroupOf(target.name);
    return group === undefined ? target : { ...target, group };
  });
}

/** A session as the console lists it (times in epoch ms). */
export interface ConsoleSession {
  readonly id: string;
  readonly principal: string;
  readonly target: string;
  readonly state: SessionRecord['state'];
  readonly policy?: string;
  readonly openedAt?: number;
  /** When the debuggee stopped; absent while it runs. */
  readonly pausedSince?: number;
}

/** The sessions view: the sessions on targets `principal` may see. */
export function consoleSessions(principal: Principal, records: readonly SessionRecord[]): ConsoleSession[] {
  return records
    .filter((record) => seesTarget(principal, record.target))
    .map(({ id, principal: holder, target, state, status }) => ({
      id,
      principal: holder,
      target,
      state,
      ...(status ? { policy: status.policy, openedAt: status.openedAt } : {}),
      ...(status?.pausedSince !== undefined ? { pausedSince: status.pausedSince } : {}),
    }));
}

/** The audit records `principal` may see: all for an admin, those about its targets for an engineer. */
export function seesAuditRecord(principal: Principal, record: AuditRecord): boolean {
  if (principal.grants.admin) return true;
  const target = record['target'];
  return typeof target === 'string' && seesTarget(principal, target);
}
