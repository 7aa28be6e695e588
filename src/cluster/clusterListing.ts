import type { Principal } from '../auth/principal.js';
import { targetPage, visibleTargets, type PageRequest, type TargetPage } from '../listeners/targetListing.js';
import { maxTargetsPage, type TargetInfo } from '../protocol/controlMessages.js';
import type { ClusterStore, StoredTargetPage } from './clusterStore.js';

/**
 * One page of the whole cluster's targets (docs/protocol.md §7): this instance's own
 * (current) merged with the store's entries of the others (as last renewed), by name.
 * A page never goes past the last name the store looked at, so paging sees every
 * target. With the store unreachable, the page holds this instance's targets only.
 */
export async function clusterTargetPage(principal: Principal, local: readonly TargetInfo[], store: ClusterStore, request: PageRequest): Promise<TargetPage> {
  const limit = Math.min(request.limit ?? maxTargetsPage, maxTargetsPage);
  let stored: StoredTargetPage = { targets: [], boundary: undefined };
  if (store.reachable) {
    try {
      stored = await store.page(request.after, limit);
    } catch {
      // this instance's own targets only, as when the store is known to be down
    }
  }
  const boundary = stored.boundary;
  const localNames = new Set(local.map((target) => target.name));
  const merged = [...local, ...stored.targets.map((target) => target.info).filter((info) => !localNames.has(info.name))].filter(
    (target) => boundary === undefined || target.name <= boundary,
  );
  const page = targetPage(visibleTargets(principal, merged), request);
  if (boundary !== undefined && page.next === undefined) return { ...page, next: boundary };
  return page;
}
