import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { allGrants } from '../../../src/auth/grants.js';
import type { Principal } from '../../../src/auth/principal.js';
import { httpStatusFor } from '../../../src/common/relayError.js';
import { AgentHub } from '../../../src/agents/agentHub.js';
import { LifecycleState } from '../../../src/lifecycle/lifecycleLimits.js';
import { SessionBroker } from '../../../src/session/sessionBroker.js';
import { SessionLedger } from '../../../src/session/sessionLedger.js';
import type { AgentConnection } from '../../../src/agents/agentConnection.js';
import { MemoryControlChannel } from '../../../src/agents/memoryControlChannel.js';
import { TargetRegistry, type TargetEntry } from '../../../src/targets/targetRegistry.js';
import { MemoryTransport } from '../../../src/transport/memoryTransport.js';
import { encodeDapMessage } from '../../../src/dap/dapFramer.js';

const principal: Principal = { id: 'relay-secret', grants: allGrants, method: 'secret' };
const logger = pino({ level: 'silent' });
const tick = (ms = 5): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const limits = { handshakeTimeoutMs: 1_000, heartbeatIntervalMs: 10_000, heartbeatTimeoutMs: 20_000, openTimeoutMs: 1_000, maxPendingOpens: 4 };
const bounds = { maxAgents: 1, maxAgentsPerPrincipal: 1, maxSessionsPerPrincipal: 2, maxSessionsPerTarget: 1, sessionIdleTimeoutMs: 0 };

function agentPair(hub: AgentHub, name: string, as: Principal = principal) {
  const [relaySide, agentSide] = MemoryControlChannel.pair('tcps');
  const received: Array<{ type: string; code?: string; sessionId?: string; retryAfterMs?: number }> = [];
  agentSide.onMessage((m) => received.push(m as (typeof received)[number]));
  hub.accept(relaySide, as);
  agentSide.send({ type: 'register', agentId: `id-${name}`, target: { name }, process: { pid: 1, host: 'h', python: '3', debugpy: '1', agent: '0' } });
  return { agentSide, received };
}

describe('limits', () => {
  it('maxAgents: a further control connection gets LIMIT_REACHED (HTTP 429) naming the key, and is counted', async () => {
    const refused: string[] = [];
    const state = new LifecycleState(bounds, (limit) => refused.push(limit));
    const hub = new AgentHub(new TargetRegistry<AgentConnection>(), limits, logger, undefined, state);
    agentPair(hub, 'web-1');
    const second = agentPair(hub, 'web-2');
    await tick();
    expect(second.received[0]).toMatchObject({ type: 'error', code: 'LIMIT_REACHED' });
    expect((second.received[0] as { message?: string }).message).toMatch(/limits\.maxAgents/);
    expect(refused).toEqual(['maxAgents']);
    expect(httpStatusFor('LIMIT_REACHED')).toBe(429);
    expect(hub.size).toBe(1);
  });

  it('maxAgentsPerPrincipal: one token cannot take every agent slot; another identity still registers; the relay secret is exempt', async () => {
    const refused: string[] = [];
    const state = new LifecycleState({ ...bounds, maxAgents: 10, maxAgentsPerPrincipal: 3 }, (limit) => refused.push(limit));
    const registry = new TargetRegistry<AgentConnection>();
    const hub = new AgentHub(registry, limits, logger, undefined, state);
    const token = (sub: string): Principal => ({ id: `jwt:${sub}`, grants: allGrants, method: 'jwt' });
    const flood = Array.from({ length: 6 }, (_, i) => agentPair(hub, `web-${i}`, token('flooder')));
    await tick();
    expect(flood.slice(0, 3).every((agent) => agent.received.every((m) => m.type !== 'error'))).toBe(true);
    for (const refusedAgent of flood.slice(3)) {
      expect(refusedAgent.received[0]).toMatchObject({ type: 'error', code: 'LIMIT_REACHED' });
      expect((refusedAgent.received[0] as { message?: string }).message).toMatch(/limits\.maxAgentsPerPrincipal/);
    }
    expect(refused).toEqual(['maxAgentsPerPrincipal', 'maxAgentsPerPrincipal', 'maxAgentsPerPrincipal']);
    const other = agentPair(hub, 'api-1', token('other'));
    const shared = [agentPair(hub, 'svc-1'), agentPair(hub, 'svc-2'), agentPair(hub, 'svc-3'), agentPair(hub, 'svc-4')];
    await tick();
    expect(other.received.filter((m) => m.type === 'error')).toEqual([]);
    expect(shared.flatMap((agent) => agent.received.filter((m) => m.type === 'error'))).toEqual([]);
    expect(registry.lookup('api-1')).toBeDefined();
    expect(registry.lookup('svc-4')).toBeDefined();
    expect(hub.size).toBe(3 + 1 + 4);
    // a reload raising the bound admits the identity again
    state.values = { ...state.values, maxAgentsPerPrincipal: 4 };
    agentPair(hub, 'web-9', token('flooder'));
    await tick();
    expect(registry.lookup('web-9')).toBeDefined();
  });

  it('counts sessions per principal and per target, releases once, and refuses past the bound', () => {
    const refused: string[] = [];
    const state = new LifecycleState(bounds, (limit) => refused.push(limit));
    const ledger = new SessionLedger();
    const counts = {
      admit: (principal: string, target: string, limits: LifecycleState): (() => void) => {
        const session = ledger.admit({ id: `${principal}/${target}`, principal, target, entry: { name: target } as TargetEntry }, limits);
        return () => session.release();
      },
    };
    const release = counts.admit('p', 'web-1', state);
    expect(() => counts.admit('p', 'web-1', state)).toThrow(expect.objectContaining({ code: 'LIMIT_REACHED', message: expect.stringMatching(/limits\.maxSessionsPerTarget/) }));
    counts.admit('p', 'web-2', state);
    expect(() => counts.admit('p', 'web-3', state)).toThrow(/limits\.maxSessionsPerPrincipal/);
    release();
    release(); // idempotent
    counts.admit('q', 'web-1', state);
    expect(refused).toEqual(['maxSessionsPerTarget', 'maxSessionsPerPrincipal']);
  });

  it('the broker refuses a session past maxSessionsPerTarget before asking the agent, and RELAY_DRAINING (HTTP 503) while draining', async () => {
    const state = new LifecycleState({ ...bounds, maxAgents: 10 });
    const registry = new TargetRegistry<AgentConnection>();
    const hub = new AgentHub(registry, limits, logger, undefined, state);
    const broker = new SessionBroker({ registry, maxMessageBytes: 1 << 16, logger, lifecycle: state });
    const agent = agentPair(hub, 'web-1');
    await tick();
    const request = { principal, target: 'web-1', via: 'tcps' as const, clientAddress: 'memory' };
    const first = broker.prepare(request);
    await tick();
    await expect(broker.prepare(request)).rejects.toMatchObject({ code: 'LIMIT_REACHED' });
    const opens = agent.received.filter((m) => m.type === 'open');
    expect(opens).toHaveLength(1);
    const [relaySide] = MemoryTransport.pair();
    hub.claimSession(opens[0]!.sessionId!, principal)(relaySide);
    (await first).abort(); // releases the count
    state.drain();
    await expect(broker.prepare(request)).rejects.toMatchObject({ code: 'RELAY_DRAINING' });
    expect(httpStatusFor('RELAY_DRAINING')).toBe(503);
    // agents: refused while draining; the connected one is told to go away
    const late = agentPair(hub, 'web-9');
    hub.goAwayAll('the relay is shutting down', 2000);
    await tick();
    expect(late.received[0]).toMatchObject({ type: 'error', code: 'RELAY_DRAINING' });
    expect(agent.received.at(-1)).toEqual({ type: 'goaway', reason: 'the relay is shutting down', retryAfterMs: 2000 });
    expect(registry.lookup('web-1')).toBeUndefined();
  });

  it('sessionIdleTimeoutMs: a session with no DAP message is told and ended; a heartbeat event does not count as use', async () => {
    let idled = 0;
    const state = new LifecycleState({ ...bounds, maxAgents: 10, sessionIdleTimeoutMs: 150 });
    const registry = new TargetRegistry<AgentConnection>();
    const hub = new AgentHub(registry, limits, logger, undefined, state);
    const broker = new SessionBroker({ registry, maxMessageBytes: 1 << 16, logger, lifecycle: state, onIdleTimeout: () => idled++ });
    const agent = agentPair(hub, 'web-1');
    await tick();
    const preparing = broker.prepare({ principal, target: 'web-1', via: 'tcps', clientAddress: 'memory' });
    await tick();
    const [adapterRelaySide, adapter] = MemoryTransport.pair();
    hub.claimSession(agent.received.find((m) => m.type === 'open')!.sessionId!, principal)(adapterRelaySide);
    const [client, clientRelaySide] = MemoryTransport.pair();
    (await preparing).start(clientRelaySide);
    const atClient: Buffer[] = [];
    client.onData((chunk) => atClient.push(chunk));
    for (let i = 0; i < 4; i++) {
      await tick(50);
      client.send(encodeDapMessage({ seq: 0, type: 'event', event: 'dbgrelay.heartbeat' }));
    }
    await tick(100);
    expect(client.closed).toBe(true);
    expect(adapter.closed).toBe(true);
    expect(idled).toBe(1);
    expect(Buffer.concat(atClient).toString()).toMatch(/no DAP message for 150 ms \(limits\.sessionIdleTimeoutMs\)/);
  });
});
