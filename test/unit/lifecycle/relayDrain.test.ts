import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { LifecycleState } from '../../../src/lifecycle/lifecycleLimits.js';
import { Readiness } from '../../../src/lifecycle/readiness.js';
import { drainRelay } from '../../../src/lifecycle/relayDrain.js';

const limits = { maxAgents: 1, maxAgentsPerPrincipal: 1, maxSessionsPerPrincipal: 1, maxSessionsPerTarget: 1, sessionIdleTimeoutMs: 0 };

describe('drainRelay', () => {
  it('tells every agent to go away for lifecycle.goawayRetryAfterMs', async () => {
    const goaways: Array<[string, number]> = [];
    let closed = false;
    await drainRelay(
      {
        readiness: new Readiness(),
        lifecycle: new LifecycleState(limits),
        hub: { goAwayAll: (reason, retryAfterMs) => goaways.push([reason, retryAfterMs]) },
        broker: { notifyAll: () => 0, idle: () => Promise.resolve() },
        logger: pino({ level: 'silent' }),
        detachTimeoutMs: 10,
        goawayRetryAfterMs: 7_500,
        close: async () => {
          closed = true;
        },
      },
      100,
      new AbortController().signal,
    );
    expect(goaways).toEqual([['the relay is shutting down', 7_500]]);
    expect(closed).toBe(true);
  });
});
