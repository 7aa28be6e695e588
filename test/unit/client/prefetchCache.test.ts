import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { everyMessageToAdapter, type DapDirection, type DapInterceptContext, type DapInterceptor } from '../../../src/dap/dapInterceptor.js';
import type { DapMessage } from '../../../src/dap/dapMessage.js';
import { heldRequestWaitMs, prefetchCacheInterceptors, requestKey, withSequence, type PrefetchStats } from '../../../src/client/prefetchCache.js';
import { prefetchEventName, readOnlyRequests } from '../../../src/protocol/prefetch.js';

/** debugpy's spelling of a response (json.dumps with its default separators). */
const threadsBody = '{"seq": 88, "type": "response", "request_seq": 805175297, "success": true, "command": "threads", "body": {"threads": [{"id": 1, "name": "Main caf\\u00e9"}]}}';
const topBody = '{"seq": 89, "type": "response", "request_seq": 805175298, "success": true, "command": "stackTrace", "body": {"stackFrames": [], "totalFrames": 0}}';

/** The cache of one session, driven as the client's DapPipe drives it. */
function session() {
  const stats: PrefetchStats = { received: 0, served: 0, discarded: 0 };
  const { toAdapter, toClient } = prefetchCacheInterceptors(stats);
  const sent: Array<{ toward: DapDirection; body: string }> = [];
  const forwarded: DapMessage[] = [];
  let seq = 0x4000_0000;
  const context = (direction: DapDirection): DapInterceptContext => ({
    direction,
    nextSeq: () => seq++,
    send: (_toward, message) => void forwarded.push(message),
    sendBody: (toward, body) => void sent.push({ toward, body: body.toString('utf8') }),
    refuse: () => null,
    sendToClient: () => undefined,
    sendToAdapter: () => undefined,
  });
  const interceptor = (map: ReadonlyMap<string, DapInterceptor> | undefined, name: string): DapInterceptor | undefined => map?.get(name);
  const fromAdapter = (message: DapMessage) => {
    const name = String((message as { event?: string; command?: string }).event ?? (message as { command?: string }).command);
    return interceptor(toClient, name)?.(message, context('toClient'));
  };
  const fromClient = (command: string, clientSeq: number, args?: unknown) => {
    const message: DapMessage = { seq: clientSeq, type: 'request', command, ...(args !== undefined ? { arguments: args } : {}) };
    const handler = interceptor(toAdapter, command) ?? interceptor(toAdapter, everyMessageToAdapter);
    return handler?.(message, context('toAdapter'));
  };
  const prefetch = (stop: number, afterSeq: number, answers: Array<{ command: string; arguments: Record<string, unknown>; response: string }>, more = false) =>
    fromAdapter({ seq: 1, type: 'event', event: prefetchEventName, body: { stop, afterSeq, answers, ...(more ? { more: true } : {}) } });
  const stopped = () => fromAdapter({ seq: 2, type: 'event', event: 'stopped', body: { reason: 'breakpoint', threadId: 1 } });
  return { stats, sent, forwarded, fromAdapter, fromClient, prefetch, stopped };
}

describe('prefetchCacheInterceptors', () => {
  it('answers an identical read-only request once, with the adapter bytes and the client seq', () => {
    const s = session();
    expect(s.prefetch(1, 5, [{ command: 'threads', arguments: {}, response: threadsBody }])).toBeNull(); // never reaches the DAP client
    expect(s.stopped()).toBeUndefined();
    expect(s.fromClient('threads', 6)).toBeNull();
    expect(s.sent).toEqual([{ toward: 'toClient', body: threadsBody.replace('"seq": 88', `"seq": ${0x4000_0000}`).replace('"request_seq": 805175297', '"request_seq": 6') }]);
    expect(s.fromClient('threads', 7)).toBeUndefined(); // used once: the next one goes to the adapter
    expect(s.stats).toEqual({ received: 1, served: 1, discarded: 0 });
  });

  it('matches arguments whatever their key order, and absent arguments as {}', () => {
    const s = session();
    s.prefetch(1, 5, [{ command: 'stackTrace', arguments: { threadId: 1, startFrame: 0, levels: 1 }, response: topBody }]);
    s.stopped();
    expect(s.fromClient('stackTrace', 6, { levels: 1, threadId: 1, startFrame: 0 })).toBeNull();
    expect(requestKey('threads', undefined)).toBe(requestKey('threads', {}));
    expect(requestKey('stackTrace', { threadId: 1, levels: 20 })).not.toBe(requestKey('stackTrace', { threadId: 1, levels: 1 }));
  });

  it('serves nothing to a request with other arguments', () => {
    const s = session();
    s.prefetch(1, 5, [{ command: 'stackTrace', arguments: { threadId: 1, startFrame: 0, levels: 1 }, response: topBody }]);
    s.stopped();
    expect(s.fromClient('stackTrace', 6, { threadId: 1, startFrame: 0, levels: 20 })).toBeUndefined();
    expect(s.sent).toEqual([]);
  });

  it('serves nothing after a request that may change state and that the adapter had not seen', () => {
    const s = session();
    s.prefetch(1, 5, [{ command: 'threads', arguments: {}, response: threadsBody }]);
    s.stopped();
    expect(s.fromClient('evaluate', 6, { expression: 'x = 1', context: 'repl' })).toBeUndefined();
    expect(s.fromClient('threads', 7)).toBeUndefined();
    expect(s.stats.discarded).toBe(1);
  });

  it('serves answers taken after the adapter had seen the last request that may change state', () => {
    const s = session();
    expect(s.fromClient('next', 5, { threadId: 1 })).toBeUndefined();
    s.prefetch(1, 5, [{ command: 'threads', arguments: {}, response: threadsBody }]);
    s.stopped();
    expect(s.fromClient('threads', 6)).toBeNull();
  });

  it('serves nothing for another stop, or after the program ran', () => {
    const s = session();
    s.prefetch(1, 5, [{ command: 'threads', arguments: {}, response: threadsBody }]);
    s.stopped();
    s.stopped(); // a second stop the bridge sent nothing ahead for
    expect(s.fromClient('threads', 6)).toBeUndefined();

    const t = session();
    t.prefetch(1, 5, [{ command: 'threads', arguments: {}, response: threadsBody }]);
    t.stopped();
    t.fromAdapter({ seq: 3, type: 'event', event: 'continued', body: { threadId: 1, allThreadsContinued: true } });
    expect(t.fromClient('threads', 6)).toBeUndefined();

    const u = session();
    u.prefetch(2, 5, [{ command: 'threads', arguments: {}, response: threadsBody }]); // the bridge counted a stop this client never saw
    u.stopped();
    expect(u.fromClient('threads', 6)).toBeUndefined();
  });

  it('keeps the children sent after the stopped event for the same stop', () => {
    const s = session();
    s.prefetch(1, 5, [{ command: 'threads', arguments: {}, response: threadsBody }]);
    s.stopped();
    s.prefetch(1, 5, [{ command: 'stackTrace', arguments: { threadId: 1, startFrame: 0, levels: 1 }, response: topBody }]);
    expect(s.fromClient('threads', 6)).toBeNull();
    expect(s.fromClient('stackTrace', 7, { threadId: 1, startFrame: 0, levels: 1 })).toBeNull();
  });

  it('holds a variables request until the second event of the stop, then answers it from there', () => {
    const s = session();
    const children = '{"seq": 90, "type": "response", "request_seq": 805175299, "success": true, "command": "variables", "body": {"variables": []}}';
    s.prefetch(1, 5, [{ command: 'threads', arguments: {}, response: threadsBody }], true);
    s.stopped();
    expect(s.fromClient('variables', 6, { variablesReference: 7 })).toBeNull(); // waits
    expect(s.sent).toEqual([]);
    s.prefetch(1, 5, [{ command: 'variables', arguments: { variablesReference: 7 }, response: children }]);
    expect(s.sent.map((m) => JSON.parse(m.body).request_seq)).toEqual([6]);
    expect(s.forwarded).toEqual([]);
  });

  it('sends a held request on when the second event does not answer it, or before any other request', () => {
    const s = session();
    s.prefetch(1, 5, [], true);
    s.stopped();
    expect(s.fromClient('variables', 6, { variablesReference: 7 })).toBeNull();
    s.prefetch(1, 5, []); // the second event, without that answer
    expect(s.forwarded.map((m) => (m as { seq: number }).seq)).toEqual([6]);

    const t = session();
    t.prefetch(1, 5, [], true);
    t.stopped();
    expect(t.fromClient('variables', 6, { variablesReference: 7 })).toBeNull();
    expect(t.fromClient('evaluate', 7, { expression: 'x' })).toBeUndefined(); // goes after the held one
    expect(t.forwarded.map((m) => (m as { seq: number }).seq)).toEqual([6]);
    expect(t.fromClient('variables', 8, { variablesReference: 7 })).toBeUndefined(); // no more waiting after a change
  });

  it('sends a held request on after the wait bound, and waits no more for that stop', () => {
    vi.useFakeTimers();
    try {
      const s = session();
      s.prefetch(1, 5, [], true);
      s.stopped();
      expect(s.fromClient('variables', 6, { variablesReference: 7 })).toBeNull();
      vi.advanceTimersByTime(heldRequestWaitMs);
      expect(s.forwarded.map((m) => (m as { seq: number }).seq)).toEqual([6]);
      expect(s.fromClient('variables', 7, { variablesReference: 8 })).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('forwards the request when an answer is spelled otherwise', () => {
    const s = session();
    s.prefetch(1, 5, [{ command: 'threads', arguments: {}, response: '{"type":"response","seq":1,"request_seq":2,"success":true,"command":"threads"}' }]);
    s.stopped();
    expect(s.fromClient('threads', 6)).toBeUndefined();
    expect(withSequence(Buffer.from('{"type":"response"}'), 1, 2)).toBeUndefined();
    // the spelling around the numbers is kept
    expect(withSequence(Buffer.from('{"seq":5,"type":"response","request_seq":7,"success":true}'), 40, 9)!.toString()).toBe(
      '{"seq":40,"type":"response","request_seq":9,"success":true}',
    );
  });

  it('reads the same read-only requests as the agent (test/fixtures/readOnlyRequests.json)', () => {
    const fixture = JSON.parse(readFileSync(new URL('../../fixtures/readOnlyRequests.json', import.meta.url), 'utf8')) as { readOnly: string[] };
    expect([...readOnlyRequests].sort()).toEqual([...fixture.readOnly].sort());
  });
});
