import { describe, expect, it } from 'vitest';
import { isRelayError, RelayError } from '../../../src/common/relayError.js';
import { DialedEndpoint } from '../../../src/targets/dialedEndpoint.js';
import { TargetRegistry } from '../../../src/targets/targetRegistry.js';
import { MemoryTransport } from '../../../src/transport/memoryTransport.js';
import type { Transport } from '../../../src/transport/transport.js';

const never = (signal: AbortSignal): Promise<Transport> => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));

describe('DialedEndpoint', () => {
  it('opens through its dial function and records the target as reachable', async () => {
    const [near] = MemoryTransport.pair();
    const endpoint = new DialedEndpoint(async () => near, { openTimeoutMs: 1000 });
    expect(endpoint.status()).toEqual({ reachable: undefined });
    expect(await endpoint.open().transport).toBe(near);
    expect(endpoint.status()).toEqual({ reachable: true });
  });

  it('bounds an open by openTimeoutMs with AGENT_OPEN_TIMEOUT and records why', async () => {
    const endpoint = new DialedEndpoint(never, { openTimeoutMs: 20 });
    const error = await endpoint.open().transport.catch((e: unknown) => e);
    expect(isRelayError(error, 'AGENT_OPEN_TIMEOUT')).toBe(true);
    expect(endpoint.status()).toMatchObject({ reachable: false, detail: expect.stringMatching(/within 20 ms/) });
  });

  it('turns a dial failure into AGENT_OPEN_FAILED, and a cancel into AGENT_GONE without marking the target unreachable', async () => {
    const failing = new DialedEndpoint(
      async () => {
        throw new Error('boom');
      },
      { openTimeoutMs: 1000 },
    );
    const error = await failing.open().transport.catch((e: unknown) => e);
    expect(isRelayError(error, 'AGENT_OPEN_FAILED')).toBe(true);
    expect((error as Error).message).toContain('boom');

    const slow = new DialedEndpoint(never, { openTimeoutMs: 1000 });
    const opening = slow.open();
    opening.cancel();
    expect(isRelayError(await opening.transport.catch((e: unknown) => e), 'AGENT_GONE')).toBe(true);
    expect(slow.status()).toEqual({ reachable: undefined });
  });

  it('waits adapterSettleMs after a session closed before the next connect, but not while sessions are live', async () => {
    const dials: number[] = [];
    const endpoint = new DialedEndpoint(
      async () => {
        dials.push(performance.now());
        return MemoryTransport.pair()[0];
      },
      { openTimeoutMs: 5000, adapterSettleMs: 150 },
    );
    const first = await endpoint.open().transport;
    const second = await endpoint.open().transport; // a subprocess session: no wait
    expect(dials).toHaveLength(2);
    first.destroy();
    await new Promise((resolve) => setImmediate(resolve)); // the close event
    const closedAt = performance.now();
    await endpoint.open().transport;
    expect(dials[2]! - closedAt).toBeGreaterThanOrEqual(140);
    second.destroy();
  });

  it('refuses opens once closed, and runs its close hook once', () => {
    let closes = 0;
    const endpoint = new DialedEndpoint(never, { openTimeoutMs: 1000, onClose: () => closes++ });
    endpoint.close();
    endpoint.close();
    expect(closes).toBe(1);
    expect(() => endpoint.open()).toThrow(RelayError);
  });
});

describe('TargetRegistry with provided targets', () => {
  const provided = { name: 'side', kind: 'tcp', host: '127.0.0.1', transport: 'tcp', address: 'tcp://127.0.0.1:5678' } as const;

  it("keeps a provided name from agents and agents' names from provided targets", () => {
    const registry = new TargetRegistry();
    const endpoint = new DialedEndpoint(never, { openTimeoutMs: 1000 });
    const remove = registry.provide(provided, endpoint);
    const agent = { open: () => endpoint.open(), close: () => undefined };
    const registration = { type: 'register' as const, agentId: 'a', target: { name: 'side' }, process: { pid: 1, host: 'h', python: '3', debugpy: '1', agent: '0' } };
    let error: unknown;
    try {
      registry.register(agent, registration, 'wss');
    } catch (e) {
      error = e;
    }
    expect(isRelayError(error, 'TARGET_NAME_IN_USE')).toBe(true);
    expect(() => registry.provide(provided, endpoint)).toThrow(/already provided/);
    registry.register(agent, { ...registration, target: { name: 'web-1' } }, 'wss');
    expect(() => registry.provide({ ...provided, name: 'web-1' }, endpoint, { replace: true })).toThrow(/registered by an agent/);
    expect(registry.agents()).toEqual([agent]);
    expect(registry.providedEndpoints()).toEqual([endpoint]);
    expect(remove()).toBe(true);
    expect(remove()).toBe(false);
    expect(registry.lookup('side')).toBeUndefined();
  });

  it('replaces a provided target on request and closes the old endpoint', () => {
    const registry = new TargetRegistry();
    let oldClosed = 0;
    const old = new DialedEndpoint(never, { openTimeoutMs: 1000, onClose: () => oldClosed++ });
    const removeOld = registry.provide(provided, old);
    const fresh = new DialedEndpoint(never, { openTimeoutMs: 1000 });
    registry.provide(provided, fresh, { replace: true });
    expect(oldClosed).toBe(1);
    expect(registry.lookup('side')?.endpoint).toBe(fresh);
    expect(removeOld()).toBe(false); // the old removal no longer touches the new entry
    expect(registry.list()[0]).toMatchObject({ name: 'side', kind: 'tcp', address: 'tcp://127.0.0.1:5678' });
  });
});
