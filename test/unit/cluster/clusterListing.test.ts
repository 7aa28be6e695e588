import { describe, expect, it } from 'vitest';
import { clusterTargetPage } from '../../../src/cluster/clusterListing.js';
import type { ClusterStore, StoredTargetPage } from '../../../src/cluster/clusterStore.js';
import type { Principal } from '../../../src/auth/principal.js';
import type { TargetInfo } from '../../../src/protocol/controlMessages.js';
import { fakeTargetInfo as info } from '../../support/fakes/fakeTargetInfo.js';

const admin: Principal = { id: 'relay-secret', grants: { register: ['*'], attach: ['*'], admin: true }, method: 'secret' };
const webOnly: Principal = { id: 'jwt:bob', grants: { register: [], attach: ['web-*'], admin: false }, method: 'jwt' };

/** A store holding `names` (sorted), paging as the Redis one does. */
function storeWith(names: string[], reachable = true): ClusterStore {
  const sorted = [...names].sort();
  return {
    reachable,
    page: async (after: string | undefined, limit: number): Promise<StoredTargetPage> => {
      const rest = sorted.filter((name) => after === undefined || name > after);
      const seen = rest.slice(0, limit);
      return { targets: seen.map((name) => ({ instance: 'other', peer: 'p:1', fence: 1, info: info(name) })), boundary: seen.length >= limit ? seen.at(-1) : undefined };
    },
  } as unknown as ClusterStore;
}

/** Every name a client sees paging through with `limit`. */
async function pageThrough(principal: Principal, local: TargetInfo[], store: ClusterStore, limit: number): Promise<string[]> {
  const seen: string[] = [];
  let after: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await clusterTargetPage(principal, local, store, { after, limit });
    seen.push(...page.targets.map((t) => t.name));
    if (page.next === undefined) return seen;
    after = page.next;
  }
  throw new Error('paging never ended');
}

describe('the target list of several instances', () => {
  it('merges local and stored targets by name, the local entry winning, across pages of any size', async () => {
    const local = [info('api-1', 2), info('web-3', 1)];
    const store = storeWith(['api-1', 'api-2', 'db-1', 'web-1', 'web-2', 'web-3', 'zz']);
    const expected = ['api-1', 'api-2', 'db-1', 'web-1', 'web-2', 'web-3', 'zz'];
    for (const limit of [1, 2, 3, 7, 100]) expect(await pageThrough(admin, local, store, limit)).toEqual(expected);
    const first = await clusterTargetPage(admin, local, store, { limit: 100 });
    expect(first.targets.find((t) => t.name === 'api-1')?.sessions).toBe(2); // this instance's current count
  });

  it('shows a client only what its grants cover, and never skips a target however the grants filter a page', async () => {
    const store = storeWith(['api-1', 'api-2', 'api-3', 'web-1', 'web-2']);
    for (const limit of [1, 2, 4]) expect(await pageThrough(webOnly, [info('web-0')], store, limit)).toEqual(['web-0', 'web-1', 'web-2']);
  });

  it("lists this instance's targets alone while the store is unreachable", async () => {
    expect(await pageThrough(admin, [info('b'), info('a')], storeWith(['c'], false), 10)).toEqual(['a', 'b']);
  });
});
