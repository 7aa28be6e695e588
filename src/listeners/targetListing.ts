import type { IncomingHttpHeaders } from 'node:http';
import { hasRole, targetPatternCovers } from '../auth/grants.js';
import type { Principal } from '../auth/principal.js';
import { RelayError } from '../common/relayError.js';
import { maxTargetsPage, maxTargetsPageBytes, type TargetInfo } from '../protocol/controlMessages.js';

/**
 * The target list `principal` may see (docs/protocol.md §7): every target for
 * `admin`; for a client, only the targets one of its `attach:` patterns matches (a
 * principal learns nothing about targets it cannot attach to). Anyone else (an agent
 * credential) is refused with `AUTH_FAILED`.
 */
export function visibleTargets(principal: Principal, targets: readonly TargetInfo[]): TargetInfo[] {
  if (principal.grants.admin) return [...targets];
  if (!hasRole(principal, 'client')) throw new RelayError('AUTH_FAILED', 'credential does not allow listing targets (needs admin or an attach scope)');
  return targets.filter((target) => principal.grants.attach.some((pattern) => targetPatternCovers(pattern, target.name)));
}

/** What a listing request asks for (revision 1.9, docs/protocol.md §7). */
export interface PageRequest {
  /** Only targets whose name sorts after this one (the previous page's `next`). */
  readonly after?: string | undefined;
  /** At most this many targets (default and maximum {@link maxTargetsPage}). */
  readonly limit?: number | undefined;
}

/** One page of the target list: the reply body of `GET /v1/targets` and of a `targets` hello. */
export interface TargetPage {
  readonly ok: true;
  readonly targets: TargetInfo[];
  /** Present when more targets follow: the name to send as `after`. */
  readonly next?: string;
}

function byName(a: TargetInfo, b: TargetInfo): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * One page of `targets` (docs/protocol.md §7): sorted by name, those after
 * `request.after`, at most `request.limit` of them, and no more than fit in
 * `maxBytes` serialized (at least one, so that paging always advances). `next` is set
 * when targets remain. A client that sends no paging fields (before revision 1.9) gets
 * the first page, which fits its 1 MiB bound however large the fleet.
 */
export function targetPage(targets: readonly TargetInfo[], request: PageRequest = {}, maxBytes = maxTargetsPageBytes): TargetPage {
  const limit = Math.min(request.limit ?? maxTargetsPage, maxTargetsPage);
  const after = request.after;
  const remaining = [...targets].sort(byName).filter((target) => after === undefined || target.name > after);
  const page: TargetInfo[] = [];
  let bytes = Buffer.byteLength('{"ok":true,"targets":[],"next":""}') + 256; // room for `next` (a name)
  for (const target of remaining) {
    if (page.length >= limit) break;
    const size = Buffer.byteLength(JSON.stringify(target), 'utf8') + 1;
    if (page.length > 0 && bytes + size > maxBytes) break;
    page.push(target);
    bytes += size;
  }
  const last = page.at(-1);
  return page.length < remaining.length && last !== undefined ? { ok: true, targets: page, next: last.name } : { ok: true, targets: page };
}

/** Request headers of `GET /v1/targets` that carry the paging fields (revision 1.9; v1 endpoints take no query string). */
export const pageHeaders = { after: 'x-dbgrelay-after', limit: 'x-dbgrelay-limit' } as const;

/**
 * The paging fields of `GET /v1/targets` (revision 1.9): the `X-Dbgrelay-After` and
 * `X-Dbgrelay-Limit` headers. Throws `BAD_REQUEST` for a limit that is not an integer
 * from 1 to {@link maxTargetsPage}, or an empty or over-long `after`.
 */
export function pageRequestFromHeaders(headers: IncomingHttpHeaders): PageRequest {
  const single = (name: string): string | undefined => {
    const value = headers[name];
    return Array.isArray(value) ? value.join(',') : value;
  };
  const after = single(pageHeaders.after);
  const limitText = single(pageHeaders.limit);
  if (after !== undefined && (after.length === 0 || after.length > 256)) throw new RelayError('BAD_REQUEST', `${pageHeaders.after} must be a target name (1 to 256 characters)`);
  if (limitText === undefined) return { after };
  const limit = /^[0-9]{1,6}$/.test(limitText) ? Number(limitText) : NaN;
  if (!(limit >= 1 && limit <= maxTargetsPage)) throw new RelayError('BAD_REQUEST', `${pageHeaders.limit} must be an integer from 1 to ${maxTargetsPage}`);
  return { after, limit };
}
