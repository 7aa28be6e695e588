import { parseBoundedJson } from '../common/jsonDepth.js';
import { RelayError } from '../common/relayError.js';
import { helloReply, maxTargetsPage, maxTargetsReplyBytes, protocolVersion, type TargetInfo } from '../protocol/controlMessages.js';
import type { Credential } from '../auth/principal.js';
import { httpRefusalError } from './relayRefusal.js';
import { authorization, connectRelay, credentialOf, credentialText, deadlineOf, getFromRelay, helloCredential, type RelayDialOptions } from './relayRequests.js';
import { exchangeHello } from './tcpsHello.js';
import { formatAddress } from './tlsConnect.js';

/** One page of the target list, as the relay sent it (revision 1.9, docs/protocol.md §7). */
export interface TargetListPage {
  readonly targets: TargetInfo[];
  /** More targets follow: ask again with `after` set to this name. Absent from a relay before 1.9. */
  readonly next?: string;
}

/** Which page to ask for (docs/protocol.md §7): targets after `after`, at most `limit` of them. */
export interface TargetPageRequest {
  readonly after?: string;
  readonly limit?: number;
}

function pageOf(reply: { targets?: TargetInfo[] | undefined; next?: string | undefined }): TargetListPage {
  return { targets: reply.targets ?? [], ...(reply.next !== undefined ? { next: reply.next } : {}) };
}

async function fetchPageHttps(options: RelayDialOptions, credential: Credential | undefined, remaining: () => number, page: TargetPageRequest): Promise<TargetListPage> {
  const { endpoint } = options;
  const where = formatAddress(endpoint);
  // Paging in headers (revision 1.9): v1 endpoints take no query string, and a relay before 1.9 ignores them.
  const headers = {
    ...authorization(credential),
    Accept: 'application/json',
    ...(page.after !== undefined ? { 'X-Dbgrelay-After': page.after } : {}),
    ...(page.limit !== undefined ? { 'X-Dbgrelay-Limit': String(page.limit) } : {}),
  };
  const secret = credentialText(credential);
  const answer = await getFromRelay(options, remaining, '/v1/targets', headers, maxTargetsReplyBytes);
  if (answer.statusCode !== 200) throw httpRefusalError(answer.statusCode, answer.statusMessage, answer.body, secret);
  try {
    const reply = helloReply.parse(parseBoundedJson(answer.body, 'target list'));
    return reply.ok ? pageOf(reply) : { targets: [] };
  } catch {
    throw new RelayError('BAD_REQUEST', `the relay at ${where} sent a malformed target list`);
  }
}

async function fetchPageTcps(options: RelayDialOptions, credential: Credential | undefined, remaining: () => number, page: TargetPageRequest): Promise<TargetListPage> {
  const socket = await connectRelay(options, remaining);
  const hello = { dbgrelay: protocolVersion, op: 'targets', ...page, ...helloCredential(credential) } as const;
  const accepted = await exchangeHello(socket, hello, { maxReplyBytes: maxTargetsReplyBytes, timeoutMs: remaining(), where: formatAddress(options.endpoint) });
  socket.destroy();
  return pageOf(accepted);
}

/**
 * One page of the target list (docs/protocol.md §7, revision 1.9): `GET
 * <base>/v1/targets` with `X-Dbgrelay-After` and `X-Dbgrelay-Limit` over https, or a
 * `targets` hello with `after` and `limit` over tcps. Errors as for `dialSession` (relayDialer.ts).
 */
export async function fetchTargetPage(options: RelayDialOptions, page: TargetPageRequest = {}): Promise<TargetListPage> {
  const credential = credentialOf(options);
  const remaining = deadlineOf(options);
  return options.endpoint.scheme === 'wss' ? fetchPageHttps(options, credential, remaining, page) : fetchPageTcps(options, credential, remaining, page);
}

/**
 * Most pages {@link fetchTargetList} fetches unless told otherwise: 250k targets at the
 * relay's default page size, and still 20k when every target's labels are the worst
 * JSON can make of 2048 bytes (control characters, 6 bytes each: 40 targets a page).
 */
export const defaultMaxTargetPages = 500;

/** Bounds of {@link fetchTargetList}. */
export interface TargetListBounds {
  /** Stop once this many targets are in hand (default: no bound but the page count). */
  readonly maxTargets?: number;
  /** Stop after this many pages (default {@link defaultMaxTargetPages}). */
  readonly maxPages?: number;
}

/** The target list, and whether it is all of it. */
export interface TargetList {
  readonly targets: TargetInfo[];
  /** False when a bound stopped the listing before the relay's last page. */
  readonly complete: boolean;
}

/**
 * The whole target list, page after page (docs/protocol.md §7), each page on its own
 * connection with its own dial timeout; stops at `bounds` and then says the list is not
 * `complete`. A relay before revision 1.9 answers in one page.
 */
export async function fetchTargetList(options: RelayDialOptions, bounds: TargetListBounds = {}): Promise<TargetList> {
  const maxPages = bounds.maxPages ?? defaultMaxTargetPages;
  const maxTargets = bounds.maxTargets ?? Number.POSITIVE_INFINITY;
  const targets: TargetInfo[] = [];
  let after: string | undefined;
  for (let pages = 0; pages < maxPages && targets.length < maxTargets; pages += 1) {
    const wanted = maxTargets - targets.length;
    const limit = wanted < maxTargetsPage ? wanted : undefined;
    const page = await fetchTargetPage(options, { ...(after !== undefined ? { after } : {}), ...(limit !== undefined ? { limit } : {}) });
    targets.push(...page.targets.slice(0, wanted));
    // A cursor that does not move on would loop: only a broken relay sends one.
    if (page.next === undefined || (after !== undefined && page.next <= after)) return { targets, complete: page.next === undefined && page.targets.length <= wanted };
    after = page.next;
  }
  return { targets, complete: false };
}

/**
 * Lists the targets connected to the relay (docs/protocol.md §7), every page of it up
 * to {@link defaultMaxTargetPages} pages. Errors as for `dialSession` (relayDialer.ts).
 */
export async function fetchTargets(options: RelayDialOptions): Promise<TargetInfo[]> {
  return (await fetchTargetList(options)).targets;
}
