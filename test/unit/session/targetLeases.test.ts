import { describe, expect, it } from 'vitest';
import { TargetLeases } from '../../../src/session/targetLeases.js';
import { MemoryAuditSink, openGuardedSession, principal, settle, testGuards } from '../../support/harness/guardedHarness.js';

describe('TargetLeases', () => {
  it('refuses another principal with TARGET_BUSY naming the holder and since when', async () => {
    const leases = new TargetLeases(true);
    const first = await leases.acquire('web-1', 'jwt:alice');
    expect(first.role).toBe('primary');
    const error = await leases.acquire('web-1', 'jwt:bob').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TARGET_BUSY' });
    expect((error as Error).message).toMatch(/^target "web-1" is being debugged by jwt:alice since \d{4}-\d\d-\d\dT/);
    // Another target is free; a released target too.
    expect((await leases.acquire('web-2', 'jwt:bob')).role).toBe('primary');
    first.release();
    expect((await leases.acquire('web-1', 'jwt:bob')).holder.principal).toBe('jwt:bob');
  });

  it('gives the holder secondary sessions for announced subprocesses only', async () => {
    const leases = new TargetLeases(true);
    const main = await leases.acquire('web-1', 'jwt:alice');
    const child = await leases.acquire('web-1', 'jwt:alice');
    expect(child.role).toBe('secondary');
    const attach = (subProcessId?: number) => ({ type: 'request' as const, seq: 1, command: 'attach', arguments: subProcessId === undefined ? {} : { subProcessId } });
    expect(child.refusal(attach(5))).toMatch(/may only attach to a subprocess its debug session announced/);
    main.noteSubprocess(5);
    expect(child.refusal(attach(5))).toBeUndefined();
    expect(child.refusal(attach())).toBeDefined();
    expect(main.refusal(attach())).toBeUndefined();
    expect(child.refusal({ type: 'request', seq: 2, command: 'threads' })).toBeUndefined();
  });

  it('lets the holder debug again at once while its lost session is still being detached', async () => {
    const leases = new TargetLeases(true);
    const lost = await leases.acquire('web-1', 'jwt:alice');
    lost.clientGone(); // the relay is detaching it (disconnect sent, answer pending)
    const again = await leases.acquire('web-1', 'jwt:alice');
    expect(again.role).toBe('primary');
    await expect(leases.acquire('web-1', 'jwt:bob')).rejects.toMatchObject({ code: 'TARGET_BUSY' });
    lost.release();
    expect(leases.holderOf('web-1')?.principal).toBe('jwt:alice');
  });

  it('makes a further session of the holder its debug session when the first one was lost meanwhile', async () => {
    const leases = new TargetLeases(true);
    const first = await leases.acquire('web-1', 'jwt:alice');
    const next = await leases.acquire('web-1', 'jwt:alice');
    expect(next.role).toBe('secondary');
    const attach = { type: 'request' as const, seq: 2, command: 'attach', arguments: {} };
    expect(next.refusal(attach)).toBeDefined(); // the first one is still debugging
    first.clientGone();
    expect(next.refusal(attach)).toBeUndefined();
    expect(next.role).toBe('primary');
  });

  it('lets only an admin take over, after the holder sessions ended', async () => {
    const leases = new TargetLeases(true);
    const held = await leases.acquire('web-1', 'jwt:alice');
    let evicted = false;
    held.onEvict(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      evicted = true;
      held.release();
    });
    await expect(leases.acquire('web-1', 'jwt:bob', { takeover: true, admin: false })).rejects.toMatchObject({ code: 'TARGET_BUSY' });
    const taken = await leases.acquire('web-1', 'jwt:root', { takeover: true, admin: true });
    expect(evicted).toBe(true);
    expect(taken).toMatchObject({ role: 'primary', holder: { principal: 'jwt:root' }, tookOverFrom: { principal: 'jwt:alice' } });
  });

  it('checks nothing when not exclusive', async () => {
    const leases = new TargetLeases(false);
    await leases.acquire('web-1', 'jwt:alice');
    const other = await leases.acquire('web-1', 'jwt:bob');
    expect(other.role).toBe('primary');
  });
});

describe('one debugger per target, in sessions', () => {
  it('refuses a second attach of the holder that is not an announced subprocess, and allows the announced one', async () => {
    const audit = new MemoryAuditSink();
    const guards = testGuards({}, audit);
    const main = await openGuardedSession({ guards, audit });
    await expect(openGuardedSession({ guards, audit, principal: principal('jwt:bob') })).rejects.toMatchObject({ code: 'TARGET_BUSY' });

    const second = await openGuardedSession({ guards, audit });
    const refused = await second.request('attach', { justMyCode: false });
    expect(refused.success).toBe(false);
    expect(refused.message).toMatch(/being debugged by jwt:alice since/);
    expect(second.adapter.requests('attach')).toHaveLength(0);

    main.adapter.send({ type: 'request', seq: 9, command: 'startDebugging', arguments: { request: 'attach', configuration: { subProcessId: 77 } } });
    await settle();
    const child = await openGuardedSession({ guards, audit });
    expect((await child.request('attach', { subProcessId: 77 })).success).toBe(true);
    for (const h of [main, second, child]) {
      h.pipe.close();
      await h.closed;
    }
    // All sessions closed: the target is free for anyone.
    const bob = await openGuardedSession({ guards, audit, principal: principal('jwt:bob') });
    bob.pipe.close();
    await bob.closed;
  });

  it('an admin takeover detaches the holder cleanly and is audited', async () => {
    const audit = new MemoryAuditSink();
    const guards = testGuards({}, audit);
    const held = await openGuardedSession({ guards, audit });
    await held.request('attach', {});
    const admin = await openGuardedSession({ guards, audit, principal: principal('jwt:root', ['attach:*', 'admin']), takeover: true });
    expect((await held.closed).closedBy).toBe('local');
    expect(held.adapter.requests('disconnect')[0]!.arguments).toEqual({ terminateDebuggee: false, restart: false });
    expect(held.client.events('output')[0]!.body.output).toContain('an administrator took this target over');
    expect(audit.named('session.takenOver')[0]).toMatchObject({ principal: 'jwt:root', from: 'jwt:alice' });
    expect(audit.named('session.opened').at(-1)).toMatchObject({ principal: 'jwt:root', tookOverFrom: 'jwt:alice' });
    admin.pipe.close();
    await admin.closed;
  });
});
