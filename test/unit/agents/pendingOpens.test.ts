import { afterEach, describe, expect, it, vi } from 'vitest';
import { RelayError } from '../../../src/common/relayError.js';
import { PendingOpens } from '../../../src/agents/pendingOpens.js';
import { MemoryTransport } from '../../../src/transport/memoryTransport.js';

describe('PendingOpens watcher (the agent hub finds a session id without scanning every agent)', () => {
  afterEach(() => vi.useRealTimers());

  it('is told of each id as it is issued and once as it ends: handed over, failed, timed out or the connection gone', () => {
    vi.useFakeTimers();
    const live = new Set<string>();
    const ended: string[] = [];
    const pending = new PendingOpens(1_000, 10, {
      issued: (id) => live.add(id),
      ended: (id) => {
        live.delete(id);
        ended.push(id);
      },
    });
    const claimed = pending.issue();
    const failed = pending.issue();
    const expired = pending.issue();
    const orphaned = pending.issue();
    expect(live).toEqual(new Set([claimed.sessionId, failed.sessionId, expired.sessionId, orphaned.sessionId]));

    const [transport] = MemoryTransport.pair();
    pending.claim(claimed.sessionId)(transport);
    pending.settle(failed.sessionId, new RelayError('AGENT_OPEN_FAILED', 'no'));
    vi.advanceTimersByTime(500);
    expect(live).toEqual(new Set([expired.sessionId, orphaned.sessionId]));
    pending.claim(expired.sessionId); // claimed, but its data connection never handed over
    vi.advanceTimersByTime(600);
    expect(live).toEqual(new Set());
    expect(ended).toEqual([claimed.sessionId, failed.sessionId, expired.sessionId, orphaned.sessionId]);

    const last = pending.issue();
    pending.settleAll(new RelayError('AGENT_GONE', 'gone'));
    pending.settle(last.sessionId, new RelayError('AGENT_GONE', 'again'));
    expect(ended.filter((id) => id === last.sessionId)).toHaveLength(1);
  });
});
