import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchTargetList, fetchTargetPage, fetchTargets } from '../../../src/dial/relayTargetList.js';
import type { RelayDialOptions } from '../../../src/dial/relayRequests.js';
import { parseRelayEndpoint } from '../../../src/dial/relayEndpoint.js';
import { exchangeHello } from '../../../src/dial/tcpsHello.js';
import { caTrust } from '../../../src/dial/tlsTrust.js';
import { maxTargetsReplyBytes, type RegisterMessage } from '../../../src/protocol/controlMessages.js';
import type { AgentConnection } from '../../../src/agents/agentConnection.js';
import { FakeAgent } from '../../support/fakes/fakeAgent.js';
import { httpsGet } from '../../support/relay/relayPeers.js';
import { makeCertificates, startTestRelay, type FixtureCertificates, type TestRelay } from '../../support/relay/relayFixture.js';

let certs: FixtureCertificates;
let test: TestRelay;

const fleetSize = 1000;
const names = Array.from({ length: fleetSize }, (_, i) => `web-${String(i).padStart(4, '0')}`);

/**
 * The issue's fleet: 32 labels of 64-character keys and 256-character values on every
 * target (what the old bounds let an agent register), put straight into the registry,
 * since the relay now refuses such a `register`. Past the 1 MiB reply bound tenfold.
 */
function hugeLabels(i: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: 32 }, (_, k) => [`${String(k).padStart(2, '0')}`.padEnd(64, 'k'), `${i}`.padEnd(256, 'v')]));
}

function registration(name: string, i: number): RegisterMessage {
  return {
    type: 'register',
    agentId: `agent-${name}`,
    target: { name, labels: hugeLabels(i) },
    process: { pid: 1000 + i, host: 'h'.repeat(255), python: '3.12.1', debugpy: '1.8.22', agent: '0.1.0' },
  };
}

const fakeEndpoint = (): AgentConnection =>
  ({ open: () => ({ transport: new Promise(() => undefined), cancel: () => undefined }), close: () => undefined }) as unknown as AgentConnection;

function dialOptions(scheme: 'wss' | 'tcps'): RelayDialOptions {
  const address = scheme === 'wss' ? test.relay.wssAddress! : test.relay.tcpsAddress!;
  return { endpoint: parseRelayEndpoint(`${scheme}://127.0.0.1:${address.port}`), trust: caTrust(certs.caPem, 'ca'), secret: test.secret };
}

beforeAll(async () => {
  certs = makeCertificates();
  test = await startTestRelay(certs);
  // Registered in reverse order: the list is sorted by name whatever the order of arrival.
  for (let i = fleetSize - 1; i >= 0; i -= 1) test.relay.registry.register(fakeEndpoint(), registration(names[i]!, i), 'tcps');
});

afterAll(async () => {
  await test?.close();
});

describe('target listing of a large fleet (issue 16, listing size)', () => {
  it.each(['wss', 'tcps'] as const)('lists all 1000 targets with maximal labels over %s, page by page', async (scheme) => {
    const targets = await fetchTargets(dialOptions(scheme));
    expect(targets.map((t) => t.name)).toEqual(names);
    expect(targets[999]!.labels).toEqual(hugeLabels(999));
  });

  it.each(['wss', 'tcps'] as const)('follows next with after and limit over %s', async (scheme) => {
    const first = await fetchTargetPage(dialOptions(scheme), { limit: 3 });
    expect(first).toEqual({ targets: expect.any(Array), next: 'web-0002' });
    expect(first.targets.map((t) => t.name)).toEqual(['web-0000', 'web-0001', 'web-0002']);
    const second = await fetchTargetPage(dialOptions(scheme), { after: first.next!, limit: 2 });
    expect(second.targets.map((t) => t.name)).toEqual(['web-0003', 'web-0004']);
    const last = await fetchTargetPage(dialOptions(scheme), { after: 'web-0997', limit: 5 });
    expect(last.targets.map((t) => t.name)).toEqual(['web-0998', 'web-0999']);
    expect(last.next).toBeUndefined();
  });

  it('answers a client before revision 1.9 (no paging fields) over tcps with a first page within 1 MiB', async () => {
    const address = test.relay.tcpsAddress!;
    const socket = connect({ host: address.host, port: address.port, ca: certs.caPem, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    // The old client: a `targets` hello without `after`/`limit`, a reply bound of 1 MiB.
    const accepted = await exchangeHello(socket, { dbgrelay: 1, op: 'targets', secret: test.secret }, { maxReplyBytes: 1024 * 1024, timeoutMs: 5_000, where: 'relay' });
    socket.destroy();
    expect(accepted.targets!.length).toBeGreaterThan(0);
    expect(accepted.targets!.length).toBeLessThan(fleetSize);
    expect(accepted.next).toBe(accepted.targets!.at(-1)!.name);
  });

  it('answers GET /v1/targets without a query with a first page within 1 MiB', async () => {
    const { status, body } = await httpsGet(test.relay.wssAddress!, '/v1/targets', certs.caPem, {
      Authorization: `Basic ${Buffer.from(`${test.secret}:`).toString('base64')}`,
    });
    expect(status).toBe(200);
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThanOrEqual(maxTargetsReplyBytes / 2);
    expect(body.targets[0].name).toBe('web-0000');
    expect(body.next).toBe(body.targets.at(-1).name);
  });

  it('refuses a bad X-Dbgrelay-Limit or empty X-Dbgrelay-After on GET /v1/targets with BAD_REQUEST', async () => {
    const auth = { Authorization: `Basic ${Buffer.from(`${test.secret}:`).toString('base64')}` };
    const bad: Array<Record<string, string>> = [{ 'X-Dbgrelay-Limit': '0' }, { 'X-Dbgrelay-Limit': '501' }, { 'X-Dbgrelay-Limit': 'ten' }, { 'X-Dbgrelay-After': '' }];
    for (const headers of bad) {
      const { status, body } = await httpsGet(test.relay.wssAddress!, '/v1/targets', certs.caPem, { ...auth, ...headers });
      expect({ headers, status, code: body.error?.code }).toEqual({ headers, status: 400, code: 'BAD_REQUEST' });
    }
  });

  it.each(['wss', 'tcps'] as const)('stops at maxTargets over %s and says the list is not complete', async (scheme) => {
    const cut = await fetchTargetList(dialOptions(scheme), { maxTargets: 7 });
    expect(cut.targets.map((t) => t.name)).toEqual(names.slice(0, 7));
    expect(cut.complete).toBe(false);
    const bounded = await fetchTargetList(dialOptions(scheme), { maxPages: 1 });
    expect(bounded.complete).toBe(false);
    expect(bounded.targets.length).toBeLessThan(fleetSize);
  });
});

describe('label bound at registration (revision 1.9)', () => {
  it.each(['wss', 'tcps'] as const)('refuses a register whose labels pass 2048 bytes over %s, saying why', async (via) => {
    const address = via === 'wss' ? test.relay.wssAddress! : test.relay.tcpsAddress!;
    const agent = await FakeAgent.connect({ via, address, ca: certs.caPem, secret: test.secret, name: `big-${via}`, agentId: `big-${via}`, labels: hugeLabels(0) });
    const error = await agent.next('error');
    expect(error).toMatchObject({ code: 'BAD_REQUEST' });
    expect(error['message']).toMatch(/labels refused: labels take 10240 bytes .*at most 2048/);
    expect(test.relay.registry.lookup(`big-${via}`)).toBeUndefined();
    const counted = await test.relay.metrics.registry.getSingleMetric('dbgrelay_agent_labels_refused_total')!.get();
    expect(counted.values[0]!.value).toBe(via === 'wss' ? 1 : 2);
  });

  it('accepts labels of exactly 2048 bytes', async () => {
    const labels = Object.fromEntries(Array.from({ length: 8 }, (_, k) => [`key-${k}`.padEnd(16, '.'), 'é'.repeat(120)]));
    const agent = await FakeAgent.connect({ via: 'tcps', address: test.relay.tcpsAddress!, ca: certs.caPem, secret: test.secret, name: 'zz-exact', agentId: 'zz-exact', labels });
    await agent.next('registered');
    expect(test.relay.registry.lookup('zz-exact')).toBeDefined();
    agent.close();
  });
});
