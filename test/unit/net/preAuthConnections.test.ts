import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PreAuthConnections, type PreAuthTicket } from '../../../src/net/preAuthConnections.js';
import type { ListenAddress } from '../../../src/net/serverSockets.js';
import { makeCertificates, startTestRelay, type TestRelay } from '../../support/relay/relayFixture.js';
import { basicAuth, httpsGet, openWebSocket, TcpsPeer } from '../../support/relay/relayPeers.js';

describe('PreAuthConnections', () => {
  it('refuses past the per-source cap and the global cap, releases once, and exempts a trusted source from the per-source cap', () => {
    const counts = new PreAuthConnections({ maxUnauthenticatedConnections: 5, maxUnauthenticatedPerSource: 2 });
    const a1 = counts.admit('10.0.0.1') as PreAuthTicket;
    counts.admit('10.0.0.1');
    expect(counts.admit('10.0.0.1')).toBe('maxUnauthenticatedPerSource');
    expect(counts.countOf('10.0.0.1')).toBe(2);
    a1.release();
    a1.release(); // idempotent
    expect(counts.countOf('10.0.0.1')).toBe(1);
    expect(counts.count).toBe(1);
    expect(typeof counts.admit('10.0.0.1')).toBe('object');
    for (let i = 0; i < 3; i++) expect(typeof counts.admit('10.0.0.9', true)).toBe('object'); // a front end: global cap only
    expect(counts.count).toBe(5);
    expect(counts.admit('10.0.0.2')).toBe('maxUnauthenticatedConnections');
    expect(counts.admit('10.0.0.9', true)).toBe('maxUnauthenticatedConnections');
  });
});

/** A bare TCP connection from `from` (any 127/8 address is loopback on Linux) that sends nothing. */
function bare(address: ListenAddress, from: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.host, port: address.port, localAddress: from }, () => resolve(socket));
    socket.once('error', reject);
  });
}

const closed = (socket: Socket): boolean => socket.destroyed || socket.closed;

describe('caps before authentication on a real relay (loopback)', () => {
  let t: TestRelay;
  const flood: Socket[] = [];

  beforeAll(async () => {
    // A long handshake timeout: the flood is not closed by the TLS bound during the test.
    t = await startTestRelay(makeCertificates(), {
      limits: { handshakeTimeoutMs: 30_000, openTimeoutMs: 1_000, maxUnauthenticatedConnections: 16, maxUnauthenticatedPerSource: 4, maxWaitingConnections: 2 },
    });
  });

  afterAll(async () => {
    for (const socket of flood) socket.destroy();
    await t?.close();
  });

  const metric = async (name: string, labels = ''): Promise<number> => {
    const text = await t.relay.metrics.registry.metrics();
    const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
    return line === undefined ? Number.NaN : Number(line.split(' ')[1]);
  };

  it('destroys bare connections past the per-source cap before TLS, holds those past the global cap waiting until a slot frees; a client from another source still authenticates; an authenticated connection no longer counts', async () => {
    const wss = t.relay.wssAddress!;
    const tcps = t.relay.tcpsAddress!;
    // One source, 10 bare connections to each listener: 4 in all stay (the cap counts across listeners).
    const oneSource = [
      ...(await Promise.all(Array.from({ length: 10 }, () => bare(tcps, '127.0.0.2')))),
      ...(await Promise.all(Array.from({ length: 10 }, () => bare(wss, '127.0.0.2')))),
    ];
    flood.push(...oneSource);
    await vi.waitFor(() => expect(oneSource.filter(closed)).toHaveLength(16));
    expect(await metric('dbgrelay_unauthenticated_connections')).toBe(4);
    expect(await metric('dbgrelay_unauthenticated_refusals_total', '{cap="maxUnauthenticatedPerSource"}')).toBe(16);

    // A legitimate client from 127.0.0.1 is not held to the flooder's cap: both listeners serve it.
    expect((await httpsGet(wss, '/v1/targets', t.ca, basicAuth(t.secret))).status).toBe(200);
    const agent = await TcpsPeer.hello(tcps, t.ca, { op: 'agent', secret: t.secret });
    expect(agent.reply).toMatchObject({ ok: true });
    const control = await openWebSocket(wss, '/v1/agent', t.ca, basicAuth(t.secret));
    // Both agent connections stay open, authenticated: they are no longer counted.
    await vi.waitFor(async () => expect(await metric('dbgrelay_unauthenticated_connections')).toBe(4));

    // Other sources fill the global cap (16); the next connection from anywhere is destroyed.
    const others = await Promise.all([3, 4, 5].flatMap((n) => Array.from({ length: 4 }, (_, i) => bare(i % 2 ? wss : tcps, `127.0.0.${n}`))));
    flood.push(...others);
    await vi.waitFor(async () => expect(await metric('dbgrelay_unauthenticated_connections')).toBe(16));
    expect(others.filter(closed)).toHaveLength(0);
    // Past the global cap a connection waits, before TLS, for a slot (at most limits.maxWaitingConnections of them) instead of being reset.
    let waitedAnswer: Awaited<ReturnType<typeof TcpsPeer.hello>> | undefined;
    const waitingAgent = TcpsPeer.hello(tcps, t.ca, { op: 'agent', secret: t.secret }).then((answer) => (waitedAnswer = answer));
    const waitingBare = await bare(wss, '127.0.0.7');
    flood.push(waitingBare);
    await vi.waitFor(async () => expect(await metric('dbgrelay_unauthenticated_waiting_connections')).toBe(2));
    const late = await bare(tcps, '127.0.0.6');
    flood.push(late);
    await vi.waitFor(() => expect(closed(late)).toBe(true));
    expect(await metric('dbgrelay_unauthenticated_refusals_total', '{cap="maxWaitingConnections"}')).toBe(1);
    expect(await metric('dbgrelay_unauthenticated_refusals_total', '{cap="maxUnauthenticatedConnections"}')).toBe(0);
    expect(waitedAnswer).toBeUndefined();
    expect(closed(waitingBare)).toBe(false);
    expect(agent.peer.ended).toBe(false);
    expect(control.readyState).toBe(control.OPEN);

    // A slot frees: the first connection that waited is admitted, its TLS handshake and hello complete.
    others[0]!.destroy();
    await waitingAgent;
    expect(waitedAnswer!.reply).toMatchObject({ ok: true });
    waitedAnswer!.peer.socket.destroy();
    await vi.waitFor(async () => expect(await metric('dbgrelay_unauthenticated_waiting_connections')).toBe(0));

    // Once the flood is gone, the count is back to zero and new connections are served.
    for (const socket of flood) socket.destroy();
    await vi.waitFor(async () => expect(await metric('dbgrelay_unauthenticated_connections')).toBe(0));
    expect((await httpsGet(wss, '/v1/targets', t.ca, basicAuth(t.secret))).status).toBe(200);
    agent.peer.socket.destroy();
    control.terminate();
  });
});
