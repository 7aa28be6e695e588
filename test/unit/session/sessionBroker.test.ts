import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { allGrants } from '../../../src/auth/grants.js';
import type { Principal } from '../../../src/auth/principal.js';
import { encodeDapMessage } from '../../../src/dap/dapFramer.js';
import { AgentHub } from '../../../src/agents/agentHub.js';
import { GuardedSession } from '../../../src/session/guardedSession.js';
import { SessionBroker } from '../../../src/session/sessionBroker.js';
import { SessionLedger } from '../../../src/session/sessionLedger.js';
import type { AgentConnection } from '../../../src/agents/agentConnection.js';
import { MemoryControlChannel } from '../../../src/agents/memoryControlChannel.js';
import { TargetRegistry } from '../../../src/targets/targetRegistry.js';
import { MemoryTransport } from '../../../src/transport/memoryTransport.js';

const principal: Principal = { id: 'relay-secret', grants: allGrants, method: 'secret' };
const logger = pino({ level: 'silent' });
const tick = (ms = 5): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function setup(openTimeoutMs = 1_000, brokerOptions: { prefetch?: { maxBytes: number; maxHoldMs: number } } = {}) {
  const ledger = new SessionLedger();
  const registry = new TargetRegistry<AgentConnection>(ledger);
  const hub = new AgentHub(registry, { handshakeTimeoutMs: 1_000, heartbeatIntervalMs: 10_000, heartbeatTimeoutMs: 20_000, openTimeoutMs, maxPendingOpens: 4 }, logger);
  const broker = new SessionBroker({ registry, ledger, maxMessageBytes: 1 << 16, logger, ...brokerOptions });
  const [relaySide, agentSide] = MemoryControlChannel.pair('wss');
  const opens: string[] = [];
  const openMessages: Array<Record<string, unknown>> = [];
  agentSide.onMessage((m) => {
    const message = m as { type: string; sessionId?: string };
    if (message.type === 'open') {
      opens.push(message.sessionId!);
      openMessages.push(message);
    }
  });
  hub.accept(relaySide, principal);
  agentSide.send({ type: 'register', agentId: 'a1', target: { name: 'web-1' }, process: { pid: 1, host: 'h', python: '3', debugpy: '1', agent: '0' } });
  await tick();
  expect(registry.lookup('web-1')).toBeDefined();
  return { registry, hub, broker, agentSide, opens, openMessages, ledger };
}

const request = { principal, target: 'web-1', via: 'tcps' as const, clientAddress: 'memory' };

describe('SessionBroker', () => {
  it('passes the prefetch limits to the agent only for a client that asks, and forwards answers sent ahead only to it', async () => {
    const limits = { maxBytes: 4096, maxHoldMs: 200 };
    const { hub, broker, opens, openMessages } = await setup(1_000, { prefetch: limits });
    const session = async (asks: boolean) => {
      const preparing = broker.prepare({ ...request, ...(asks ? { prefetch: true } : {}) });
      await tick();
      const [adapterRelaySide, adapter] = MemoryTransport.pair();
      hub.claimSession(opens.at(-1)!, principal)(adapterRelaySide);
      const prepared = await preparing;
      const [client, clientRelaySide] = MemoryTransport.pair();
      prepared.start(clientRelaySide);
      const atClient: Buffer[] = [];
      client.onData((c) => atClient.push(c));
      adapter.send(encodeDapMessage({ type: 'event', seq: 1, event: 'dbgrelay.prefetch', body: { stop: 1, afterSeq: 0, answers: [] } }));
      adapter.send(encodeDapMessage({ type: 'event', seq: 2, event: 'output', body: { output: 'next' } }));
      await tick(20);
      client.close();
      await tick();
      return Buffer.concat(atClient).toString();
    };
    const asked = await session(true);
    expect(openMessages.at(-1)!['prefetch']).toEqual(limits);
    expect(asked).toContain('dbgrelay.prefetch');
    const notAsked = await session(false);
    expect(openMessages.at(-1)!['prefetch']).toBeUndefined();
    expect(notAsked).not.toContain('dbgrelay.prefetch');
    expect(notAsked).toContain('"output"');
  });

  it('asks no agent for prefetch when the relay has it off', async () => {
    const { broker, opens, openMessages } = await setup();
    void broker.prepare({ ...request, prefetch: true }).catch(() => undefined);
    await tick();
    expect(opens).toHaveLength(1);
    expect(openMessages[0]!['prefetch']).toBeUndefined();
  });

  it('opens the agent side, then connects the client; bytes flow both ways and close propagates', async () => {
    const { registry, hub, broker, opens } = await setup();
    const preparing = broker.prepare(request);
    await tick();
    expect(opens).toHaveLength(1);
    const [adapterRelaySide, adapter] = MemoryTransport.pair();
    hub.claimSession(opens[0]!, principal)(adapterRelaySide);
    const prepared = await preparing;
    const [client, clientRelaySide] = MemoryTransport.pair();
    prepared.start(clientRelaySide);
    expect(registry.list()[0]!.sessions).toBe(1);

    const atAdapter: Buffer[] = [];
    const atClient: Buffer[] = [];
    adapter.onData((c) => atAdapter.push(c));
    client.onData((c) => atClient.push(c));
    const request1 = encodeDapMessage({ type: 'request', seq: 1, command: 'initialize', arguments: { adapterID: 'debugpy' } });
    const event = encodeDapMessage({ type: 'event', seq: 1, event: 'output' });
    client.send(request1);
    adapter.send(event);
    // The first request a process validates compiles its schema (tens of ms).
    await vi.waitFor(() => expect(Buffer.concat(atAdapter).equals(request1)).toBe(true));
    expect(Buffer.concat(atClient).equals(event)).toBe(true);

    client.close();
    await tick();
    expect(adapter.closed).toBe(true);
    expect(registry.list()[0]!.sessions).toBe(0);
    expect(broker.activeSessions).toBe(0);
  });

  it('releases a session that fails while starting, so that it counts against no limit', async () => {
    const { registry, hub, broker, opens, ledger } = await setup();
    const preparing = broker.prepare(request);
    await tick();
    const [adapterRelaySide] = MemoryTransport.pair();
    hub.claimSession(opens[0]!, principal)(adapterRelaySide);
    const prepared = await preparing;
    const bind = vi.spyOn(GuardedSession.prototype, 'bind').mockImplementation(() => {
      throw new Error('bind failed');
    });
    const [, clientRelaySide] = MemoryTransport.pair();
    try {
      expect(() => prepared.start(clientRelaySide)).toThrow('bind failed');
    } finally {
      bind.mockRestore();
    }
    expect(ledger.sessionsOf(principal.id)).toBe(0);
    expect(ledger.sessionsWith('web-1')).toBe(0);
    await tick();
    expect(registry.list()[0]!.sessions).toBe(0);
    expect(clientRelaySide.closed).toBe(true);
    expect(adapterRelaySide.closed).toBe(true);
  });

  it('refuses a takeover from a principal without the admin grant with AUTH_FAILED, before asking any agent', async () => {
    const { broker, opens } = await setup();
    const client: Principal = { id: 'jwt:bob', grants: { register: [], attach: ['web-*'], admin: false }, method: 'jwt' };
    await expect(broker.prepare({ ...request, principal: client, takeover: true })).rejects.toMatchObject({
      code: 'AUTH_FAILED',
      message: 'taking a target over needs the admin grant',
    });
    expect(opens).toEqual([]);
    // The same principal without takeover, and an admin with it, get as far as the agent.
    void broker.prepare({ ...request, principal: client }).catch(() => undefined);
    void broker.prepare({ ...request, takeover: true }).catch(() => undefined);
    await tick();
    expect(opens).toHaveLength(2);
    await broker.close();
  });

  it('admits a group member by its whole name, the longest included: policies, leases and pause bounds see all of it', async () => {
    const { broker, hub, opens } = await setup();
    const long = `${'g'.repeat(63)}/${'m'.repeat(63)}`;
    const [relaySide, agentSide] = MemoryControlChannel.pair('wss');
    hub.accept(relaySide, principal);
    agentSide.send({ type: 'register', agentId: 'a2', target: { name: long }, process: { pid: 2, host: 'h', python: '3', debugpy: '1', agent: '0' } });
    await tick();
    const guards = (broker as unknown as { guards: { admit: (...args: unknown[]) => unknown } }).guards;
    const admit = vi.spyOn(guards, 'admit');
    const pending = broker.prepare({ ...request, target: long });
    await vi.waitFor(() => expect(admit).toHaveBeenCalled());
    expect((admit.mock.calls[0]![0] as { target: string }).target).toBe(long);
    expect(opens).toEqual([]); // the open went to the member's own agent
    void pending.catch(() => undefined);
    broker.close();
  });

  it('refuses an unknown or invalid target before asking any agent', async () => {
    const { broker, opens } = await setup();
    await expect(broker.prepare({ ...request, target: 'web-9' })).rejects.toMatchObject({ code: 'UNKNOWN_TARGET', message: 'no target named "web-9" is connected' });
    await expect(broker.prepare({ ...request, target: '../x' })).rejects.toMatchObject({ code: 'TARGET_NAME_INVALID' });
    expect(opens).toEqual([]);
  });

  it('refuses with AGENT_OPEN_FAILED when the agent says so', async () => {
    const { broker, agentSide, opens } = await setup();
    const preparing = broker.prepare(request);
    await tick();
    agentSide.send({ type: 'openFailed', sessionId: opens[0], message: 'debug adapter is not accepting connections' });
    await expect(preparing).rejects.toMatchObject({ code: 'AGENT_OPEN_FAILED' });
  });

  it('refuses with AGENT_OPEN_TIMEOUT when no data connection comes', async () => {
    const { broker } = await setup(50);
    await expect(broker.prepare(request)).rejects.toMatchObject({ code: 'AGENT_OPEN_TIMEOUT' });
  });

  it('refuses with AGENT_GONE when the agent disconnects meanwhile', async () => {
    const { broker, agentSide } = await setup();
    const preparing = broker.prepare(request);
    await tick();
    agentSide.close();
    await expect(preparing).rejects.toMatchObject({ code: 'AGENT_GONE' });
  });

  it('cancels the open when the client leaves; a late data connection is refused', async () => {
    const { hub, broker, opens } = await setup();
    const left = new AbortController();
    const preparing = broker.prepare({ ...request, signal: left.signal });
    await tick();
    left.abort();
    await expect(preparing).rejects.toMatchObject({ code: 'AGENT_GONE' });
    expect(() => hub.claimSession(opens[0]!, principal)).toThrow(expect.objectContaining({ code: 'UNKNOWN_SESSION' }));
  });

  it('closes running sessions on close()', async () => {
    const { hub, broker, opens } = await setup();
    const preparing = broker.prepare(request);
    await tick();
    const [adapterRelaySide, adapter] = MemoryTransport.pair();
    hub.claimSession(opens[0]!, principal)(adapterRelaySide);
    const [client, clientRelaySide] = MemoryTransport.pair();
    (await preparing).start(clientRelaySide);
    broker.close();
    await tick();
    expect(client.closed && adapter.closed).toBe(true);
    await expect(broker.prepare(request)).rejects.toMatchObject({ code: 'AGENT_GONE' });
  });
});
