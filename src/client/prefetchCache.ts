import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DapInterceptContext, DapInterceptor, DapInterceptors } from '../dap/dapInterceptor.js';
import { everyMessageToAdapter } from '../dap/dapInterceptor.js';
import { prefetchEventName, readOnlyRequests, type PrefetchEventBody } from '../protocol/prefetch.js';

/** What a session's cache did, for the session's last log line and for tests. */
export interface PrefetchStats {
  /** Answers that arrived ahead of a request. */
  received: number;
  /** Requests answered from them, without a round trip. */
  served: number;
  /** Answers dropped unused: stale (a stop, a resume or a request that may change state came first) or never asked for. */
  discarded: number;
}

/** One answer sent ahead, usable once. */
interface Entry {
  readonly body: Buffer;
  /** The stop it belongs to (the bridge's count of `stopped` events). */
  readonly stop: number;
  /** The highest client request seq the adapter had seen when it answered. */
  readonly afterSeq: number;
}

/**
 * How long a `variables` request waits for the second event of a stop (the children of
 * the first view's values) before it goes to the relay after all. The bridge sends that
 * event milliseconds after the first; a slower one only delays the request by this much.
 */
export const heldRequestWaitMs = 1_000;

/** A request waiting for the second event of the stop, with the context to forward it in. */
interface Held {
  readonly request: DebugProtocol.Request;
  readonly context: DapInterceptContext;
}

/** Events after which nothing sent ahead holds any more (the program ran, or its threads changed). */
const invalidatingEvents = ['continued', 'exited', 'terminated', 'thread', 'invalidated'];

/**
 * How debugpy spells the start of a response (`seq`, `type`, `request_seq` first; the
 * bridge sends only answers spelled so): the two numbers are all that is replaced.
 */
const responseStart = /^\{"seq":( ?)-?[0-9]+(, ?"type": ?"response", ?"request_seq": ?)[0-9]+/;

/** The request's arguments in one spelling whatever the order of their keys; absent, null and `{}` are the same. */
export function requestKey(command: string, args: unknown): string {
  return `${command} ${stableJson(args ?? {})}`;
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** `body` (a response as the adapter wrote it) with its `seq` and `request_seq` replaced; undefined when spelled otherwise. */
export function withSequence(body: Buffer, seq: number, requestSeq: number): Buffer | undefined {
  const head = body.subarray(0, 160).toString('latin1');
  const match = responseStart.exec(head);
  if (!match) return undefined;
  return Buffer.concat([Buffer.from(`{"seq":${match[1]!}${seq}${match[2]!}${requestSeq}`, 'latin1'), body.subarray(match[0].length)]);
}

/**
 * The client side of prefetch on stopped (docs/protocol.md §6), for one session of
 * `dbgrelay attach`: keeps the answers of each `dbgrelay.prefetch` event (which never
 * reaches the DAP client) and answers an identical read-only request from them, once
 * each, with the adapter's own bytes and the client's `request_seq`. An answer is used
 * only while it is current: for the stop it was taken at (the `stopped` events seen so
 * far), and while the client has sent no request that may change state after the last
 * request the adapter had seen. Any such request, a resume, or a thread change drops
 * them all. Every other request goes to the relay as before. When the first event of a
 * stop says `more` (the children of its values follow), a `variables` request it cannot
 * answer waits for that second event (at most {@link heldRequestWaitMs}); any other
 * request sends the waiting ones on first, so the order of requests is kept.
 */
export function prefetchCacheInterceptors(stats: PrefetchStats = { received: 0, served: 0, discarded: 0 }): DapInterceptors {
  const entries = new Map<string, Entry[]>();
  let stopsSeen = 0;
  let lastChangingSeq = 0;
  /** The stop whose second event is still to come. */
  let moreFor: number | undefined;
  const held: Held[] = [];
  let heldTimer: NodeJS.Timeout | undefined;

  const dropOlderThan = (stop: number): void => {
    for (const [key, list] of entries) {
      const kept = list.filter((entry) => entry.stop >= stop);
      stats.discarded += list.length - kept.length;
      if (kept.length > 0) entries.set(key, kept);
      else entries.delete(key);
    }
  };

  /** The answer sent ahead for `request`, if there is a current one (used up). */
  const take = (request: DebugProtocol.Request): Entry | undefined => {
    const key = requestKey(request.command, request.arguments);
    const list = entries.get(key);
    const at = list ? list.findIndex((entry) => entry.stop === stopsSeen && lastChangingSeq <= entry.afterSeq) : -1;
    if (!list || at < 0) return undefined;
    const [entry] = list.splice(at, 1);
    if (list.length === 0) entries.delete(key);
    return entry;
  };
  /** Answers `request` from `entry`; false when the answer is spelled otherwise. */
  const serve = (request: DebugProtocol.Request, entry: Entry, context: DapInterceptContext): boolean => {
    const answer = withSequence(entry.body, context.nextSeq('toClient'), request.seq);
    if (!answer) return false;
    stats.served++;
    context.sendBody('toClient', answer);
    return true;
  };
  /** Nothing held is current any more: a request that may change state, a resume, a thread change. */
  const forgetAll = (): void => {
    release(false);
    moreFor = undefined;
    dropOlderThan(Number.POSITIVE_INFINITY);
  };
  /** Answers or forwards the waiting requests, in order (`tryServe`: the second event came). */
  const release = (tryServe: boolean): void => {
    if (heldTimer) clearTimeout(heldTimer);
    heldTimer = undefined;
    for (const { request, context } of held.splice(0)) {
      const entry = tryServe ? take(request) : undefined;
      if (!entry || !serve(request, entry, context)) context.send('toAdapter', request);
    }
  };

  const onPrefetch: DapInterceptor = (message) => {
    if (message.type !== 'event') return undefined;
    const body = (message as DebugProtocol.Event).body as Partial<PrefetchEventBody> | undefined;
    const { stop, afterSeq, answers } = body ?? {};
    if (typeof stop !== 'number' || typeof afterSeq !== 'number' || !Array.isArray(answers)) return null;
    dropOlderThan(stop);
    for (const answer of answers) {
      if (typeof answer?.command !== 'string' || typeof answer.response !== 'string') continue;
      const key = requestKey(answer.command, answer.arguments);
      const list = entries.get(key) ?? [];
      list.push({ body: Buffer.from(answer.response, 'utf8'), stop, afterSeq });
      entries.set(key, list);
      stats.received++;
    }
    if (body?.more === true) moreFor = stop;
    else if (moreFor === stop) {
      moreFor = undefined;
      release(true);
    }
    return null; // for dbgrelay attach only, never for the DAP client
  };

  const onReadOnly: DapInterceptor = (message, context) => {
    if (message.type !== 'request') return undefined;
    const request = message as DebugProtocol.Request;
    const entry = take(request);
    if (entry && serve(request, entry, context)) return null;
    const waitsForMore = request.command === 'variables' && moreFor !== undefined && moreFor === stopsSeen;
    if (waitsForMore) {
      held.push({ request, context });
      heldTimer ??= setTimeout(() => {
        moreFor = undefined; // the second event is late: no request waits for it again
        release(false);
      }, heldRequestWaitMs).unref();
      return null;
    }
    release(false); // what waits goes first
    return undefined;
  };

  const onOtherRequest: DapInterceptor = (message) => {
    if (message.type !== 'request') return undefined;
    lastChangingSeq = Math.max(lastChangingSeq, (message as DebugProtocol.Request).seq);
    forgetAll();
    return undefined;
  };

  const toClient = new Map<string, DapInterceptor>([
    [prefetchEventName, onPrefetch],
    [
      'stopped',
      (message) => {
        if (message.type === 'event') {
          stopsSeen++;
          dropOlderThan(stopsSeen);
          if (moreFor !== undefined && moreFor < stopsSeen) {
            moreFor = undefined;
            release(false);
          }
        }
        return undefined;
      },
    ],
    ...invalidatingEvents.map((name): [string, DapInterceptor] => [
      name,
      (message) => {
        if (message.type === 'event') forgetAll();
        return undefined;
      },
    ]),
  ]);
  const toAdapter = new Map<string, DapInterceptor>([
    ...[...readOnlyRequests].map((command): [string, DapInterceptor] => [command, onReadOnly]),
    [everyMessageToAdapter, onOtherRequest],
  ]);
  return { toAdapter, toClient };
}
