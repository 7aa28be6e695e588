import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { Connection } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../../src/common/relayError.js';
import type { RegisterMessage } from '../../../src/protocol/controlMessages.js';
import { ReverseForwards, type ForwardOwner } from '../../../src/sshServer/reverseForwards.js';
import { TargetRegistry, type RegisteredAgent } from '../../../src/targets/targetRegistry.js';

class FakeAgent implements RegisteredAgent {
  open(): never {
    throw new Error('not used');
  }
  close(): void {}
}

/** Enough of an ssh2 server connection: records forwardOut calls and answers them with a stream or an error. */
class FakeConnection extends EventEmitter {
  readonly opened: Array<{ boundAddr: string; boundPort: number }> = [];
  fail: Error | undefined;
  forwardOut(boundAddr: string, boundPort: number, _remoteAddr: string, _remotePort: number, callback: (error: Error | undefined, channel: PassThrough) => void): this {
    this.opened.push({ boundAddr, boundPort });
    setImmediate(() => callback(this.fail, new PassThrough()));
    return this;
  }
}

function owner(id: string, fingerprint: string, connection = new FakeConnection()): ForwardOwner & { fake: FakeConnection } {
  return { connectionId: id, connection: connection as unknown as Connection, keyFingerprint: fingerprint, ip: '10.0.0.7', fake: connection };
}

function registration(name: string): RegisterMessage {
  return { type: 'register', agentId: 'agent-a', target: { name }, process: { pid: 1, host: 'h', python: '3.12', debugpy: '1.8', agent: '0.1' } };
}

describe('ReverseForwards', () => {
  it('provides an ssh-reverse target whose sessions are forwarded-tcpip channels for the bind address and port', async () => {
    const registry = new TargetRegistry();
    const forwards = new ReverseForwards(registry, { openTimeoutMs: 5_000 });
    const a = owner('c1', 'SHA256:aaa');
    const added = forwards.add('web-1', { bindAddr: 'web-1', bindPort: 49152 }, a);
    expect(added).toMatchObject({ ok: true, replaced: false });
    expect(registry.list()[0]).toMatchObject({ name: 'web-1', kind: 'ssh-reverse', transport: 'ssh', host: '10.0.0.7', address: 'ssh -R from 10.0.0.7 (key SHA256:aaa)' });
    const transport = await registry.lookup('web-1')!.endpoint.open().transport;
    expect(transport.kind).toBe('ssh');
    expect(a.fake.opened).toEqual([{ boundAddr: 'web-1', boundPort: 49152 }]);
    transport.destroy();
    expect(registry.list()[0]).toMatchObject({ reachable: true });

    a.fake.fail = new Error('(SSH) Channel open failure: Connection refused');
    const failed = await registry
      .lookup('web-1')!
      .endpoint.open()
      .transport.catch((error: unknown) => error);
    expect(isRelayError(failed, 'AGENT_OPEN_FAILED')).toBe(true);
    expect((failed as Error).message).toMatch(/could not connect to its debugpy \(\(SSH\) Channel open failure: Connection refused\)/);

    if (!added.ok) throw new Error('unreachable');
    expect(added.release()).toBe(true);
    expect(registry.size).toBe(0);
  });

  it('gives a live name to a new connection with the same key only; never takes an agent name', () => {
    const registry = new TargetRegistry();
    const forwards = new ReverseForwards(registry, { openTimeoutMs: 5_000 });
    const first = forwards.add('web-1', { bindAddr: 'web-1', bindPort: 1 }, owner('c1', 'SHA256:aaa'));
    expect(forwards.add('web-1', { bindAddr: 'web-1', bindPort: 1 }, owner('c2', 'SHA256:bbb'))).toEqual({
      ok: false,
      reason: 'target "web-1" is held by an ssh -R connection with another key',
    });
    expect(forwards.add('web-1', { bindAddr: 'web-1', bindPort: 2 }, owner('c1', 'SHA256:aaa'))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/already forwarded on this connection/),
    });
    const second = forwards.add('web-1', { bindAddr: 'web-1', bindPort: 1 }, owner('c3', 'SHA256:aaa'));
    expect(second).toMatchObject({ ok: true, replaced: true });
    // The stale connection ending does not remove the newer registration.
    if (!first.ok || !second.ok) throw new Error('unreachable');
    expect(first.release()).toBe(false);
    expect(registry.lookup('web-1')).toBeDefined();
    expect(() => registry.lookup('web-1')!.endpoint.open()).not.toThrow();
    expect(second.release()).toBe(true);

    registry.register(new FakeAgent(), registration('api-1'), 'wss');
    expect(forwards.add('api-1', { bindAddr: 'api-1', bindPort: 1 }, owner('c4', 'SHA256:aaa'))).toEqual({
      ok: false,
      reason: 'target "api-1" is already registered by an agent (TARGET_NAME_IN_USE)',
    });
    // and an agent cannot take an ssh -R target's name either
    forwards.add('web-1', { bindAddr: 'web-1', bindPort: 1 }, owner('c5', 'SHA256:aaa'));
    let caught: unknown;
    try {
      registry.register(new FakeAgent(), { ...registration('web-1'), agentId: 'agent-b' }, 'wss');
    } catch (error) {
      caught = error;
    }
    expect(isRelayError(caught, 'TARGET_NAME_IN_USE')).toBe(true);
  });
});
