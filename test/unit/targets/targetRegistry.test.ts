import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../../src/common/relayError.js';
import type { RegisterMessage } from '../../../src/protocol/controlMessages.js';
import { SessionLedger } from '../../../src/session/sessionLedger.js';
import { TargetRegistry, type RegisteredAgent } from '../../../src/targets/targetRegistry.js';

class FakeAgent implements RegisteredAgent {
  open(): never {
    throw new Error('not used');
  }
  closed = 0;
  close(): void {
    this.closed++;
  }
}

function registration(name: string, agentId: string): RegisterMessage {
  return {
    type: 'register',
    agentId,
    target: { name, labels: { env: 'test' } },
    process: { pid: 42, host: 'h', python: '3.12.1', debugpy: '1.8.22', agent: '0.1.0' },
  };
}

describe('TargetRegistry', () => {
  it('registers and lists targets as TargetInfo', () => {
    const registry = new TargetRegistry<FakeAgent>();
    registry.register(new FakeAgent(), registration('web-2', 'b'), 'tcps');
    registry.register(new FakeAgent(), registration('web-1', 'a'), 'wss');
    const list = registry.list();
    expect(list.map((t) => t.name)).toEqual(['web-1', 'web-2']);
    expect(list[0]).toMatchObject({ labels: { env: 'test' }, host: 'h', pid: 42, python: '3.12.1', debugpy: '1.8.22', agent: '0.1.0', transport: 'wss', sessions: 0 });
    expect(Number.isNaN(Date.parse(list[0]!.connectedAt))).toBe(false);
  });

  it('refuses the name from another agentId', () => {
    const registry = new TargetRegistry<FakeAgent>();
    const first = new FakeAgent();
    registry.register(first, registration('web-1', 'a'), 'wss');
    let caught: unknown;
    try {
      registry.register(new FakeAgent(), registration('web-1', 'b'), 'wss');
    } catch (error) {
      caught = error;
    }
    expect(isRelayError(caught, 'TARGET_NAME_IN_USE')).toBe(true);
    expect(registry.lookup('web-1')?.agent).toBe(first);
    expect(first.closed).toBe(0);
  });

  it('replaces a registration with the same agentId and closes the stale agent', () => {
    const registry = new TargetRegistry<FakeAgent>();
    const stale = new FakeAgent();
    const fresh = new FakeAgent();
    registry.register(stale, registration('web-1', 'a'), 'wss');
    const replaced = registry.register(fresh, registration('web-1', 'a'), 'tcps');
    expect(replaced.map((e) => e.agent)).toEqual([stale]);
    expect(stale.closed).toBe(1);
    expect(registry.lookup('web-1')).toMatchObject({ agent: fresh, transport: 'tcps' });
    // The stale agent's late removal must not remove the fresh registration.
    expect(registry.remove(stale)).toBe(false);
    expect(registry.size).toBe(1);
    expect(registry.remove(fresh)).toBe(true);
    expect(registry.lookup('web-1')).toBeUndefined();
  });

  it('finds agents by agent id, and replaces by agent id or by connection under a new name', () => {
    const registry = new TargetRegistry<FakeAgent>();
    const first = new FakeAgent();
    const second = new FakeAgent();
    registry.register(first, registration('web-1', 'a'), 'wss');
    registry.register(second, registration('web-2', 'b'), 'wss');
    expect(registry.agentWithId('a')).toBe(first);
    expect(registry.agentWithId('zz')).toBeUndefined();

    // Same agent id, new connection, new name: the old name goes and its agent is closed.
    const moved = new FakeAgent();
    expect(registry.register(moved, registration('web-3', 'a'), 'tcps').map((e) => e.name)).toEqual(['web-1']);
    expect(first.closed).toBe(1);
    expect(registry.lookup('web-1')).toBeUndefined();
    expect(registry.agentWithId('a')).toBe(moved);

    // Same connection registering again under a new agent id and name: its old entry goes, it is not closed.
    expect(registry.register(second, registration('web-4', 'c'), 'wss').map((e) => e.name)).toEqual(['web-2']);
    expect(second.closed).toBe(0);
    expect(registry.agentWithId('b')).toBeUndefined();
    expect(registry.agentWithId('c')).toBe(second);
    expect(registry.list().map((t) => t.name)).toEqual(['web-3', 'web-4']);
    expect(registry.agents()).toEqual([moved, second]);

    expect(registry.remove(second)).toBe(true);
    expect(registry.agentWithId('c')).toBeUndefined();
    expect(registry.agents()).toEqual([moved]);
  });

  it('counts sessions per target until released', () => {
    const ledger = new SessionLedger();
    const registry = new TargetRegistry<FakeAgent>(ledger);
    const entry = registry.register(new FakeAgent(), registration('web-1', 'a'), 'wss') && registry.lookup('web-1')!;
    const runningSession = (id: string): (() => void) => {
      const session = ledger.admit({ id, principal: 'p', target: entry.name, entry });
      session.start({
        close: () => undefined,
        closed: Promise.resolve(),
        notify: () => undefined,
        status: () => ({ policy: 'full', openedAt: 0 }),
        resume: async () => 'notStopped' as const,
      });
      return () => session.release();
    };
    const release1 = runningSession('s1');
    const release2 = runningSession('s2');
    expect(registry.list()[0]!.sessions).toBe(2);
    release1();
    release1();
    expect(registry.list()[0]!.sessions).toBe(1);
    release2();
    expect(registry.list()[0]!.sessions).toBe(0);
  });
});
