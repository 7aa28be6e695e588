import { describe, expect, it, vi } from 'vitest';
import type { DapMessage } from '../../../src/dap/dapMessage.js';
import { heartbeatEvent, heartbeatMessage, isHeartbeatName } from '../../../src/liveness/heartbeat.js';
import { startHeartbeats, withHeartbeatAnswersDropped } from '../../../src/liveness/attachHeartbeats.js';
import { LivenessTransport } from '../../../src/liveness/livenessTransport.js';
import { MemoryTransport } from '../../../src/transport/memoryTransport.js';

describe('the attach side of tcps heartbeats', () => {
  it('drops the relay’s heartbeat answers and keeps the other interceptors', () => {
    const other = vi.fn(() => undefined);
    const interceptors = withHeartbeatAnswersDropped({ toClient: new Map([['output', other]]) });
    const drop = interceptors.toClient?.get(heartbeatEvent);
    expect(drop?.(heartbeatMessage(), {} as never)).toBeNull();
    expect(drop?.({ seq: 1, type: 'request', command: 'dbgrelay.heartbeat' } as DapMessage, {} as never)).toBeUndefined();
    expect(interceptors.toClient?.get('output')).toBe(other);
  });

  it('sends heartbeats only over a connection that promised them, until stopped', async () => {
    vi.useFakeTimers();
    try {
      const [near] = MemoryTransport.pair();
      const pipe = { sendToAdapter: vi.fn() };
      const stopNone = startHeartbeats(pipe, near);
      const live = new LivenessTransport(near, 10_000, undefined, 100);
      const stop = startHeartbeats(pipe, live);
      await vi.advanceTimersByTimeAsync(350);
      expect(pipe.sendToAdapter).toHaveBeenCalledTimes(3);
      expect(pipe.sendToAdapter).toHaveBeenCalledWith(heartbeatMessage());
      stop();
      stopNone();
      await vi.advanceTimersByTimeAsync(500);
      expect(pipe.sendToAdapter).toHaveBeenCalledTimes(3);
      live.destroy();
    } finally {
      vi.useRealTimers();
    }
  });

  it('tells a heartbeat’s name from a real message’s', () => {
    expect(isHeartbeatName('dbgrelay.heartbeat')).toBe(true);
    expect(isHeartbeatName('output')).toBe(false);
    expect(isHeartbeatName(undefined)).toBe(false);
  });
});
