import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../src/config/loadConfig.js';
import { SshMetrics } from '../../../src/metrics/agentMetrics.js';
import { SshServerMetrics } from '../../../src/metrics/sshServerMetrics.js';
import { startSshServer, type RunningSshServer } from '../../../src/sshServer/sshServer.js';
import { TargetRegistry } from '../../../src/targets/targetRegistry.js';
import { sshKeygen, type TestKey } from '../../support/keys/sshKeys.js';

let server: RunningSshServer;
let key: TestKey;
let draw = 0.999; // the early-drop random source: above every probability unless a test lowers it
const registry = new TargetRegistry();
const metricsRegistry = new Registry();
const sockets: Socket[] = [];
const clients: ssh2.Client[] = [];

beforeAll(async () => {
  key = sshKeygen('ed25519', 'host');
  const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-sshcaps-'));
  const authorizedKeysFile = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeysFile, `dbgrelay-targets="web-*" ${key.publicLine}\n`, { mode: 0o600 });
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: dir,
      auth: { secret: 'a-relay-secret-for-the-test' },
      sshServer: { enabled: true, host: '127.0.0.1', port: 0, authorizedKeysFile, maxConnections: 3, authTimeoutMs: 30_000 },
    },
  });
  expect(config.sshServer.maxStartups).toEqual({ start: 10, rate: 30, full: 60 });
  expect(config.sshServer.maxStartupsPerSource).toBe(8);
  server = await startSshServer(config, {
    registry,
    logger: pino({ level: 'silent' }),
    metrics: new SshMetrics(metricsRegistry),
    serverMetrics: new SshServerMetrics(metricsRegistry),
    random: () => draw,
  });
});

afterAll(async () => {
  for (const client of clients) client.end();
  for (const socket of sockets) socket.destroy();
  await server?.close();
});

/** A bare TCP connection from `from` (127/8 is loopback on Linux) that never sends its banner. */
function bare(from: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: server.address.port, localAddress: from }, () => resolve(socket));
    socket.once('error', reject);
    sockets.push(socket);
  });
}

const closed = (socket: Socket): boolean => socket.destroyed || socket.closed;

/** An ssh2 client that authenticates with the authorized key and asks for `-R target:0:…`; resolves with the outcome. */
function forward(target: string): Promise<'registered' | 'ended' | 'refused'> {
  return new Promise((resolve) => {
    const client = new ssh2.Client();
    clients.push(client);
    client.on('ready', () => client.forwardIn(target, 0, (error) => resolve(error ? 'refused' : 'registered')));
    client.on('error', () => resolve('ended'));
    client.on('close', () => resolve('ended'));
    client.connect({ host: '127.0.0.1', port: server.address.port, username: 'host', privateKey: readFileSync(key.privateFile), readyTimeout: 10_000 });
  });
}

const metric = async (name: string, labels = ''): Promise<number> => {
  const line = (await metricsRegistry.metrics()).split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return Number(line?.split(' ')[1]);
};

describe('SSH server caps before authentication (loopback)', () => {
  it('a flood of bare connections from two sources does not lock out ssh -R hosts; only authenticated ones count against maxConnections', async () => {
    // 2 x 40 bare connections: each source keeps maxStartupsPerSource (8), the rest are dropped at accept.
    const flood = await Promise.all([...Array.from({ length: 40 }, () => bare('127.0.0.2')), ...Array.from({ length: 40 }, () => bare('127.0.0.3'))]);
    await vi.waitFor(() => expect(flood.filter(closed)).toHaveLength(64));
    expect(await metric('dbgrelay_ssh_server_unauthenticated_connections')).toBe(16);
    expect(await metric('dbgrelay_ssh_server_refusals_total', '{reason="maxStartupsPerSource"}')).toBe(64);

    // 16 waiting is past start (10): the injected draw (0.999) keeps the host. Three hosts fill maxConnections (3).
    expect(await Promise.all([forward('web-1'), forward('web-2'), forward('web-3')])).toEqual(['registered', 'registered', 'registered']);
    expect(registry.lookup('web-3')).toBeDefined();
    expect(['ended', 'refused']).toContain(await forward('web-4')); // ended right after it authenticated
    expect(registry.lookup('web-4')).toBeUndefined();
    expect(await metric('dbgrelay_ssh_server_refusals_total', '{reason="maxConnections"}')).toBe(1);
    expect(flood.filter(closed)).toHaveLength(64); // the flood's 16 are still held (until authTimeoutMs)

    // Random early drop with the injected source: at 16 waiting the probability is 38.4 %.
    draw = 0.38;
    const dropped = await bare('127.0.0.4');
    await vi.waitFor(() => expect(closed(dropped)).toBe(true));
    expect(await metric('dbgrelay_ssh_server_refusals_total', '{reason="maxStartupsEarlyDrop"}')).toBe(1);
    draw = 0.39;
    const kept = await bare('127.0.0.4');
    await vi.waitFor(async () => expect(await metric('dbgrelay_ssh_server_unauthenticated_connections')).toBe(17));
    expect(closed(kept)).toBe(false);
  });
});
