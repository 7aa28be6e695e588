import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { Registry } from 'prom-client';
import type { Client } from 'ssh2';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RelayError } from '../../../src/common/relayError.js';
import { createLogger } from '../../../src/log/logger.js';
import { SshMetrics } from '../../../src/metrics/agentMetrics.js';
import type { SshCredentialSource } from '../../../src/ssh/sshAuth.js';
import { SshConnectionPool } from '../../../src/ssh/sshConnectionPool.js';
import type { HopConnector, SshHopSpec } from '../../../src/ssh/sshHop.js';

/** A channel: a duplex that says 'close' when destroyed. */
function fakeChannel(): Duplex {
  return new Duplex({
    read() {},
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}

/** An ssh2 Client stand-in: forwardOut hands out channels (or `refuse`s), end() closes it. */
class FakeClient extends EventEmitter {
  readonly channels: Array<{ host: string; port: number; channel: Duplex }> = [];
  refuse: string | undefined;
  /** Like ssh2 once its socket ended but before 'close' was emitted. */
  dead = false;
  forwardOut(_srcIP: string, _srcPort: number, host: string, port: number, callback: (error: Error | undefined, channel: Duplex) => void): void {
    if (this.dead) throw new Error('Not connected');
    queueMicrotask(() => {
      if (this.refuse) return callback(new Error(this.refuse), undefined as unknown as Duplex);
      const channel = fakeChannel();
      this.channels.push({ host, port, channel });
      callback(undefined, channel);
    });
  }
  endCalls = 0;
  end(): void {
    this.endCalls += 1;
    queueMicrotask(() => this.emit('close'));
  }
}

function hop(label: string, idleTimeoutMs = 0): SshHopSpec {
  const [user, hostPort] = label.split('@') as [string, string];
  const [host, port] = hostPort.split(':') as [string, string];
  return {
    user,
    host,
    port: Number(port),
    label,
    credential: { identity: 'key /k' } as SshCredentialSource,
    hostKeys: { kind: 'pinned', fingerprints: [] },
    keepaliveIntervalMs: 0,
    keepaliveCountMax: 3,
    readyTimeoutMs: 1000,
    idleTimeoutMs,
    key: label,
  };
}

const logger = createLogger({ level: 'silent' }).logger;
const debugpy = { host: '127.0.0.1', port: 5678 };
const signal = () => new AbortController().signal;

function harness(fail?: (spec: SshHopSpec, attempt: number) => RelayError | undefined) {
  const clients: FakeClient[] = [];
  const connects: Array<{ spec: SshHopSpec; sock: Duplex | undefined }> = [];
  const connect: HopConnector = async (spec, sock) => {
    connects.push({ spec, sock });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const error = fail?.(spec, connects.filter((c) => c.spec.key === spec.key).length);
    if (error) throw error;
    const client = new FakeClient();
    clients.push(client);
    return client as unknown as Client;
  };
  const metrics = new SshMetrics(new Registry());
  const pool = new SshConnectionPool({ logger, metrics, connect });
  const gauge = async (): Promise<number> => (await metrics.connections.get()).values[0]?.value ?? 0;
  return { pool, clients, connects, gauge };
}

afterEach(() => vi.useRealTimers());

describe('ssh connection pool', () => {
  it('opens one connection for concurrent and later channels of one chain, and counts it in the gauge', async () => {
    const { pool, clients, connects, gauge } = harness();
    const chain = [hop('deploy@db-1:22')];
    const [one, two] = await Promise.all([pool.openChannel(chain, debugpy, signal()), pool.openChannel(chain, { host: '127.0.0.1', port: 5679 }, signal())]);
    const three = await pool.openChannel(chain, debugpy, signal());
    expect(connects).toHaveLength(1);
    expect(clients[0]!.channels.map((c) => c.port)).toEqual([5678, 5679, 5678]);
    expect(new Set([one, two, three]).size).toBe(3);
    expect(pool.size).toBe(1);
    expect(await gauge()).toBe(1);
    await pool.openChannel([hop('other@db-1:22')], debugpy, signal());
    expect(connects).toHaveLength(2);
    expect(await gauge()).toBe(2);
  });

  it('reconnects on the next open after the connection dropped', async () => {
    const { pool, clients, connects, gauge } = harness();
    const chain = [hop('deploy@db-1:22')];
    await pool.openChannel(chain, debugpy, signal());
    clients[0]!.emit('error', new Error('Keepalive timeout'));
    clients[0]!.emit('close');
    expect(pool.size).toBe(0);
    expect(await gauge()).toBe(0);
    await pool.openChannel(chain, debugpy, signal());
    expect(connects).toHaveLength(2);
    expect(await gauge()).toBe(1);
  });

  it('connects anew, once, when a pooled connection turns out to be dead before its close was seen', async () => {
    const { pool, clients, connects, gauge } = harness();
    const chain = [hop('deploy@db-1:22')];
    await pool.openChannel(chain, debugpy, signal());
    clients[0]!.dead = true;
    await pool.openChannel(chain, debugpy, signal());
    expect(connects).toHaveLength(2);
    expect(clients[1]!.channels).toHaveLength(1);
    expect(await gauge()).toBe(1);
  });

  it('forgets a failed connect so that the next open tries again', async () => {
    const { pool, connects } = harness((_spec, attempt) =>
      attempt === 1 ? new RelayError('SSH_UNREACHABLE', 'ssh host deploy@db-1:22 is not reachable (ECONNREFUSED)') : undefined,
    );
    const chain = [hop('deploy@db-1:22')];
    await expect(pool.openChannel(chain, debugpy, signal())).rejects.toMatchObject({ code: 'SSH_UNREACHABLE' });
    expect(pool.size).toBe(0);
    await pool.openChannel(chain, debugpy, signal());
    expect(connects).toHaveLength(2);
  });

  it('reports a channel the host refuses as AGENT_OPEN_FAILED naming debugpy', async () => {
    const { pool, clients } = harness();
    const chain = [hop('deploy@db-1:22')];
    await pool.openChannel(chain, debugpy, signal());
    clients[0]!.refuse = 'Connection refused';
    await expect(pool.openChannel(chain, debugpy, signal())).rejects.toMatchObject({
      code: 'AGENT_OPEN_FAILED',
      message: 'debugpy at 127.0.0.1:5678 is not reachable through ssh deploy@db-1:22 (Connection refused)',
    });
  });

  it('connects through jump hosts over a channel of the pooled hop before, sharing the bastion', async () => {
    const { pool, clients, connects } = harness();
    const bastion = hop('jump@bastion:22');
    await pool.openChannel([bastion, hop('deploy@db-1:22')], debugpy, signal());
    await pool.openChannel([bastion, hop('deploy@db-2:2222')], debugpy, signal());
    expect(connects.map((c) => c.spec.label)).toEqual(['jump@bastion:22', 'deploy@db-1:22', 'deploy@db-2:2222']);
    expect(connects[0]!.sock).toBeUndefined();
    expect(clients[0]!.channels.map((c) => `${c.host}:${c.port}`)).toEqual(['db-1:22', 'db-2:2222']);
    expect(connects[1]!.sock).toBe(clients[0]!.channels[0]!.channel);
    const refused = harness();
    refused.pool.openChannel([bastion], debugpy, signal()).catch(() => undefined);
    await refused.pool.openChannel([bastion], debugpy, signal());
    refused.clients[0]!.refuse = 'Connection refused';
    await expect(refused.pool.openChannel([bastion, hop('deploy@db-3:22')], debugpy, signal())).rejects.toMatchObject({
      code: 'SSH_UNREACHABLE',
      message: 'jump host jump@bastion:22 could not connect to db-3:22 (Connection refused)',
    });
  });

  it('closes a connection idle for idleTimeoutMs, and keeps it while channels are open', async () => {
    const { pool, clients, gauge } = harness();
    const chain = [hop('deploy@db-1:22', 1000)];
    const channel = await pool.openChannel(chain, debugpy, signal());
    vi.useFakeTimers();
    await vi.advanceTimersByTimeAsync(5000);
    expect(pool.size).toBe(1);
    channel.destroy();
    await vi.advanceTimersByTimeAsync(999);
    expect(pool.size).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(pool.size).toBe(0);
    expect(await gauge()).toBe(0);
    expect(clients[0]!.endCalls).toBe(1);
  });

  it('gives up an open when its signal aborts, and closes the channel that arrives late', async () => {
    const { pool, clients } = harness();
    const controller = new AbortController();
    const opening = pool.openChannel([hop('deploy@db-1:22')], debugpy, controller.signal);
    controller.abort(new RelayError('AGENT_GONE', 'session cancelled'));
    await expect(opening).rejects.toMatchObject({ code: 'AGENT_GONE' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pool.size).toBe(1); // the shared connection still comes up for the next session
    expect(clients[0]?.channels ?? []).toHaveLength(0);
  });

  it('closes every connection when the last user releases the pool', async () => {
    const { pool, clients, gauge } = harness();
    const releaseA = pool.retain();
    const releaseB = pool.retain();
    await pool.openChannel([hop('deploy@db-1:22')], debugpy, signal());
    releaseA();
    expect(pool.size).toBe(1);
    releaseB();
    expect(pool.size).toBe(0);
    expect(await gauge()).toBe(0);
    expect(clients[0]!.endCalls).toBe(1);
  });
});
