import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { RelayError } from '../../../src/common/relayError.js';
import { allGrants } from '../../../src/auth/grants.js';
import type { Principal } from '../../../src/auth/principal.js';
import { AgentConnection, type AgentConnectionHooks } from '../../../src/agents/agentConnection.js';
import { MemoryControlChannel } from '../../../src/agents/memoryControlChannel.js';
import { MemoryTransport } from '../../../src/transport/memoryTransport.js';

const principal: Principal = { id: 'relay-secret', grants: allGrants, method: 'secret' };
const limits = { handshakeTimeoutMs: 1_000, heartbeatIntervalMs: 100, heartbeatTimeoutMs: 300, openTimeoutMs: 500, maxPendingOpens: 2 };
const register = {
  type: 'register',
  agentId: 'agent-1',
  target: { name: 'web-1' },
  process: { pid: 1, host: 'h', python: '3.12', debugpy: '1.8.22', agent: '0.1.0' },
};

function setup(hooks: Partial<AgentConnectionHooks> = {}, options: { autoPong?: boolean; minAttachSecretLength?: number } = {}) {
  const [relaySide, agentSide] = MemoryControlChannel.pair();
  const received: Array<Record<string, unknown>> = [];
  agentSide.onMessage((m) => {
    const message = m as Record<string, unknown>;
    received.push(message);
    if (options.autoPong && message['type'] === 'ping') agentSide.send({ type: 'pong', id: message['id'] });
  });
  const closes: Array<RelayError | undefined> = [];
  const connection = new AgentConnection(
    relaySide,
    principal,
    options.minAttachSecretLength === undefined ? limits : { ...limits, minAttachSecretLength: options.minAttachSecretLength },
    { onRegister: hooks.onRegister ?? (() => undefined), onClose: (_agent, error) => closes.push(error) },
    pino({ level: 'silent' }),
  );
  return { connection, agentSide, received, closes };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('AgentConnection', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('registers and answers with the heartbeat parameters', async () => {
    const { connection, agentSide, received } = setup();
    agentSide.send(register);
    await flush();
    expect(connection.registration?.target.name).toBe('web-1');
    expect(received[0]).toEqual({ type: 'registered', target: 'web-1', heartbeat: { intervalMs: 100, timeoutMs: 300 } });
  });

  it('keeps only the digest of an attach secret, never the clear value in the registration', async () => {
    const registered: unknown[] = [];
    const { connection, agentSide } = setup({ onRegister: (_agent, message) => registered.push(message) });
    agentSide.send({ ...register, attachSecret: 'attach-s3cret-VALUE' });
    await flush();
    expect(connection.registration).toBeDefined();
    expect(connection.registration).not.toHaveProperty('attachSecret');
    expect(JSON.stringify(registered)).not.toContain('attach-s3cret-VALUE');
    expect(connection.attachSecret?.matches('attach-s3cret-VALUE')).toBe(true);
    expect(connection.attachSecret?.matches('attach-s3cret-VALUe')).toBe(false);
  });

  it('has no attach secret when the agent sets none, and refuses an empty one', async () => {
    const { connection, agentSide } = setup();
    agentSide.send(register);
    await flush();
    expect(connection.attachSecret).toBeUndefined();
    const empty = setup();
    empty.agentSide.send({ ...register, attachSecret: '' });
    await flush();
    expect(empty.closes[0]?.code).toBe('BAD_REQUEST');
    expect(empty.connection.attachSecret).toBeUndefined();
  });

  it('refuses an attach secret shorter than the minimum, saying why and how to make one, never quoting it', async () => {
    const registered: unknown[] = [];
    const short = setup({ onRegister: (_agent, message) => registered.push(message) });
    short.agentSide.send({ ...register, attachSecret: 'letmein' });
    await flush();
    expect(short.closes[0]?.code).toBe('BAD_REQUEST');
    const error = short.received.find((m) => m['type'] === 'error');
    expect(error).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('at least 16') });
    expect(error!['message']).toContain('secrets.token_urlsafe(24)');
    expect(JSON.stringify(short.received)).not.toContain('letmein');
    expect(registered).toEqual([]);
    expect(short.connection.registration).toBeUndefined();

    const fifteen = setup();
    fifteen.agentSide.send({ ...register, attachSecret: 'x'.repeat(15) });
    const sixteen = setup();
    sixteen.agentSide.send({ ...register, attachSecret: 'x'.repeat(16) });
    await flush();
    expect(fifteen.closes[0]?.code).toBe('BAD_REQUEST');
    expect(sixteen.connection.registration?.target.name).toBe('web-1');
  });

  it('applies a configured longer minimum', async () => {
    const { closes, received, agentSide } = setup({}, { minAttachSecretLength: 32 });
    agentSide.send({ ...register, attachSecret: 'x'.repeat(31) });
    await flush();
    expect(closes[0]?.code).toBe('BAD_REQUEST');
    expect(received.find((m) => m['type'] === 'error')?.['message']).toContain('at least 32');
  });

  it('closes with HANDSHAKE_TIMEOUT when register does not come in time', async () => {
    const { closes, received } = setup();
    await vi.advanceTimersByTimeAsync(1_001);
    await flush();
    expect(closes[0]?.code).toBe('HANDSHAKE_TIMEOUT');
    expect(received.at(-1)).toMatchObject({ type: 'error', code: 'HANDSHAKE_TIMEOUT' });
  });

  it('pings every interval and stays up while pongs arrive', async () => {
    const { connection, agentSide, received, closes } = setup({}, { autoPong: true });
    agentSide.send(register);
    await flush();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(received.filter((m) => m['type'] === 'ping').length).toBeGreaterThanOrEqual(9);
    expect(closes).toEqual([]);
    expect(connection.isClosed).toBe(false);
  });

  it('closes with HEARTBEAT_TIMEOUT when the agent goes silent', async () => {
    const { connection, agentSide, closes, received } = setup();
    agentSide.send(register);
    await flush();
    await vi.advanceTimersByTimeAsync(299);
    expect(closes).toEqual([]);
    await vi.advanceTimersByTimeAsync(2);
    expect(closes[0]?.code).toBe('HEARTBEAT_TIMEOUT');
    expect(connection.isClosed).toBe(true);
    await flush();
    expect(received.at(-1)).toMatchObject({ type: 'error', code: 'HEARTBEAT_TIMEOUT' });
  });

  it('refuses a registration its owner refuses, with the owner\u2019s code', async () => {
    const { agentSide, closes, received } = setup({
      onRegister: () => {
        throw new RelayError('TARGET_NAME_IN_USE', 'target "web-1" is registered by another agent');
      },
    });
    agentSide.send(register);
    await flush();
    expect(closes[0]?.code).toBe('TARGET_NAME_IN_USE');
    expect(received[0]).toMatchObject({ type: 'error', code: 'TARGET_NAME_IN_USE' });
  });

  it('refuses a bad target name, messages before register, and ignores unknown types', async () => {
    const bad = setup();
    bad.agentSide.send({ ...register, target: { name: '../etc' } });
    await flush();
    expect(bad.closes[0]?.code).toBe('TARGET_NAME_INVALID');

    const early = setup();
    early.agentSide.send({ type: 'futureThing', x: 1 });
    early.agentSide.send({ type: 'pong', id: 1 });
    await flush();
    expect(early.closes[0]?.code).toBe('BAD_REQUEST');
  });

  it('issues one-time session ids and hands over the data connection', async () => {
    const { connection, agentSide, received } = setup();
    agentSide.send(register);
    await flush();
    const pending = connection.open();
    await flush();
    expect(pending.sessionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(received.at(-1)).toEqual({ type: 'open', sessionId: pending.sessionId });
    const deliver = connection.claim(pending.sessionId, principal);
    expect(() => connection.claim(pending.sessionId, principal)).toThrow(expect.objectContaining({ code: 'UNKNOWN_SESSION' }));
    const [transport] = MemoryTransport.pair();
    deliver(transport);
    await expect(pending.transport).resolves.toBe(transport);
    expect(connection.open().sessionId).not.toBe(pending.sessionId);
  });

  it('fails opens with AGENT_OPEN_FAILED, AGENT_OPEN_TIMEOUT and AGENT_GONE', async () => {
    const { connection, agentSide } = setup({}, { autoPong: true });
    agentSide.send(register);
    await flush();
    const failed = connection.open();
    agentSide.send({ type: 'openFailed', sessionId: failed.sessionId, message: 'adapter down' });
    await expect(failed.transport).rejects.toMatchObject({ code: 'AGENT_OPEN_FAILED' });

    const slow = connection.open();
    const slowResult = expect(slow.transport).rejects.toMatchObject({ code: 'AGENT_OPEN_TIMEOUT' });
    await vi.advanceTimersByTimeAsync(501);
    await slowResult;
    expect(() => connection.claim(slow.sessionId, principal)).toThrow(expect.objectContaining({ code: 'UNKNOWN_SESSION' }));

    const orphan = connection.open();
    connection.close();
    await expect(orphan.transport).rejects.toMatchObject({ code: 'AGENT_GONE' });
    expect(() => connection.open()).toThrow(expect.objectContaining({ code: 'AGENT_GONE' }));
  });

  it('bounds pending opens and binds ids to the agent\u2019s principal', async () => {
    const { connection, agentSide } = setup();
    agentSide.send(register);
    await flush();
    const first = connection.open();
    connection.open();
    expect(() => connection.open()).toThrow(expect.objectContaining({ code: 'AGENT_OPEN_FAILED' }));
    const stranger: Principal = { ...principal, id: 'someone-else' };
    expect(() => connection.claim(first.sessionId, stranger)).toThrow(expect.objectContaining({ code: 'UNKNOWN_SESSION' }));
  });
});
