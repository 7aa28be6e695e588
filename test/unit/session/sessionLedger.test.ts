import { describe, expect, it } from 'vitest';
import { LifecycleState } from '../../../src/lifecycle/lifecycleLimits.js';
import { SessionLedger, type RunningSession } from '../../../src/session/sessionLedger.js';
import { TargetRegistry, type TargetEntry } from '../../../src/targets/targetRegistry.js';

const bounds = { maxAgents: 10, maxAgentsPerPrincipal: 10, maxSessionsPerPrincipal: 2, maxSessionsPerTarget: 2, sessionIdleTimeoutMs: 0 };
const entryNamed = (name: string): TargetEntry => ({ name }) as TargetEntry;

function runningSession(): RunningSession & { closes: number; notices: string[]; end(): void } {
  let end!: () => void;
  const closed = new Promise<void>((resolve) => (end = resolve));
  const session = {
    closes: 0,
    notices: [] as string[],
    closed,
    close: () => void session.closes++,
    notify: (text: string) => void session.notices.push(text),
    status: () => ({ policy: 'full' as const, openedAt: 0 }),
    resume: async () => 'notStopped' as const,
    end: () => end(),
  };
  return session;
}

describe('SessionLedger', () => {
  it('counts every state per principal and per target, and refuses past the bounds with the limits messages', () => {
    const refused: string[] = [];
    const limits = new LifecycleState(bounds, (limit) => refused.push(limit));
    const ledger = new SessionLedger();
    const web1 = entryNamed('web-1');
    ledger.admit({ id: 'a', principal: 'alice', target: 'web-1', entry: web1 }, limits);
    const second = ledger.admit({ id: 'b', principal: 'alice', target: 'web-1', entry: web1 }, limits);
    second.opening();
    expect(ledger.sessionsOf('alice')).toBe(2);
    expect(ledger.sessionsWith('web-1')).toBe(2);
    expect(() => ledger.admit({ id: 'c', principal: 'alice', target: 'web-2', entry: entryNamed('web-2') }, limits)).toThrow(
      expect.objectContaining({ code: 'LIMIT_REACHED', message: 'sessions of alice: at most 2 (limits.maxSessionsPerPrincipal)' }),
    );
    expect(() => ledger.admit({ id: 'd', principal: 'bob', target: 'web-1', entry: web1 }, limits)).toThrow(
      expect.objectContaining({ code: 'LIMIT_REACHED', message: 'sessions with target "web-1": at most 2 (limits.maxSessionsPerTarget)' }),
    );
    expect(refused).toEqual(['maxSessionsPerPrincipal', 'maxSessionsPerTarget']);
    // a refused admission records nothing
    expect(ledger.sessionsOf('bob')).toBe(0);
    expect(ledger.records().map(({ id, state }) => ({ id, state }))).toEqual([
      { id: 'a', state: 'admitted' },
      { id: 'b', state: 'opening' },
    ]);
  });

  it("does not bound the relay secret, everyone's credential in the simple setup, by maxSessionsPerPrincipal; the per-target bound still holds", () => {
    const limits = new LifecycleState({ ...bounds, maxSessionsPerPrincipal: 1, maxSessionsPerTarget: 1 });
    const ledger = new SessionLedger();
    for (let i = 0; i < 5; i++) ledger.admit({ id: `s${i}`, principal: 'relay-secret', target: `web-${i}`, entry: entryNamed(`web-${i}`) }, limits);
    expect(ledger.sessionsOf('relay-secret')).toBe(5);
    expect(() => ledger.admit({ id: 'again', principal: 'relay-secret', target: 'web-0', entry: entryNamed('web-0') }, limits)).toThrow(/limits\.maxSessionsPerTarget/);
    ledger.admit({ id: 'a', principal: 'alice', target: 'web-9', entry: entryNamed('web-9') }, limits);
    expect(() => ledger.admit({ id: 'b', principal: 'alice', target: 'web-8', entry: entryNamed('web-8') }, limits)).toThrow(/limits\.maxSessionsPerPrincipal/);
  });

  it('releases exactly once, whatever the state, and frees the slots', () => {
    const limits = new LifecycleState({ ...bounds, maxSessionsPerPrincipal: 1 });
    const ledger = new SessionLedger();
    const entry = entryNamed('web-1');
    const first = ledger.admit({ id: 'a', principal: 'alice', target: 'web-1', entry }, limits);
    first.opening();
    first.start(runningSession());
    first.release();
    first.release();
    expect(ledger.sessionsOf('alice')).toBe(0);
    expect(ledger.sessionsWith('web-1')).toBe(0);
    expect(ledger.running).toBe(0);
    expect(ledger.runningWith(entry)).toBe(0);
    expect(ledger.records()).toEqual([]);
    const again = ledger.admit({ id: 'b', principal: 'alice', target: 'web-1', entry }, limits);
    // a second release of the first session does not free the slot of this one
    first.release();
    expect(() => ledger.admit({ id: 'c', principal: 'alice', target: 'web-1', entry }, limits)).toThrow(/limits\.maxSessionsPerPrincipal/);
    again.release();
    expect(ledger.sessionsOf('alice')).toBe(0);
  });

  it('goes admitted → opening → running; a released session is not started again', () => {
    const ledger = new SessionLedger();
    const session = ledger.admit({ id: 'a', principal: 'alice', target: 'web-1', entry: entryNamed('web-1') });
    expect(session).toMatchObject({ id: 'a', principal: 'alice', target: 'web-1', state: 'admitted' });
    session.opening();
    expect(session.state).toBe('opening');
    session.start(runningSession());
    expect(session.state).toBe('running');
    session.opening(); // no way back
    expect(session.state).toBe('running');
    const late = ledger.admit({ id: 'b', principal: 'alice', target: 'web-1', entry: entryNamed('web-1') });
    late.release();
    late.start(runningSession());
    expect(ledger.running).toBe(1);
    expect(ledger.records().map((record) => record.id)).toEqual(['a']);
  });

  it('counts running sessions in all and per registry entry; only running ones are reachable', async () => {
    const ledger = new SessionLedger();
    const old = entryNamed('web-1');
    const replacement = entryNamed('web-1');
    const a = ledger.admit({ id: 'a', principal: 'alice', target: 'web-1', entry: old });
    const b = ledger.admit({ id: 'b', principal: 'bob', target: 'web-1', entry: replacement });
    ledger.admit({ id: 'c', principal: 'bob', target: 'web-1', entry: replacement }).opening();
    const ra = runningSession();
    const rb = runningSession();
    a.start(ra);
    b.start(rb);
    expect(ledger.running).toBe(2);
    expect(ledger.runningWith(old)).toBe(1);
    expect(ledger.runningWith(replacement)).toBe(1);
    expect(ledger.sessionsWith('web-1')).toBe(3);
    const reachable = ledger.runningSessions();
    expect(reachable).toEqual([ra, rb]);
    for (const session of reachable) session.notify('hello');
    expect(ra.notices).toEqual(['hello']);
    a.release();
    expect(ledger.running).toBe(1);
    expect(ledger.runningWith(old)).toBe(0);
    expect(ledger.runningSessions()).toEqual([rb]);
  });

  it('is where a registry reads each target’s session count from, also after the entry was removed', () => {
    const ledger = new SessionLedger();
    const registry = new TargetRegistry(ledger);
    const endpoint = {
      open: () => {
        throw new Error('not used');
      },
      close: () => undefined,
    };
    const remove = registry.provide({ name: 'db-1', kind: 'tcp', host: 'h', transport: 'tcp', address: 'tcp://h:5678' }, endpoint);
    const entry = registry.lookup('db-1')!;
    const session = ledger.admit({ id: 'a', principal: 'alice', target: 'db-1', entry });
    expect(registry.list()[0]!.sessions).toBe(0); // admitted, not running yet
    session.start(runningSession());
    expect(registry.list()[0]!.sessions).toBe(1);
    remove();
    expect(entry.sessions).toBe(1);
    session.release();
    expect(entry.sessions).toBe(0);
  });
});
