import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeDapMessage } from '../../../src/dap/dapFramer.js';
import { heartbeatMessage, heartbeatTimeoutFor } from '../../../src/liveness/heartbeat.js';
import { FakeAgent } from '../../support/fakes/fakeAgent.js';
import { eventually, makeCertificates, startTestRelay, type FixtureCertificates, type TestRelay } from '../../support/relay/relayFixture.js';
import { TcpsPeer } from '../../support/relay/relayPeers.js';

let certs: FixtureCertificates;
let t: TestRelay;
const agents: FakeAgent[] = [];
const peers: TcpsPeer[] = [];

beforeAll(async () => {
  certs = makeCertificates();
  t = await startTestRelay(certs, { heartbeat: { intervalMs: 100, timeoutMs: 400 } });
});

afterAll(async () => {
  for (const agent of agents) agent.close();
  for (const peer of peers) peer.socket.destroy();
  await t?.close();
});

const tcps = () => t.relay.tcpsAddress!;
const threads = encodeDapMessage({ seq: 1, type: 'request', command: 'threads' });

/** A registered agent that opens its data connections itself, and a tcps client session waiting for one. */
async function sessionWaitingForData(name: string): Promise<{ client: TcpsPeer; clientReply: Promise<unknown>; sessionId: string }> {
  const agent = await FakeAgent.connect({ via: 'tcps', address: tcps(), ca: t.ca, secret: t.secret, name, agentId: `id-${name}`, autoOpen: false });
  agents.push(agent);
  await agent.next('registered');
  const client = await TcpsPeer.connect(tcps(), t.ca);
  peers.push(client);
  client.sendLine({ dbgrelay: 1, op: 'attach', target: name, secret: t.secret });
  const clientReply = client.readLine();
  const open = await agent.next('open');
  return { client, clientReply, sessionId: String(open['sessionId']) };
}

async function agentData(sessionId: string, extra: Record<string, unknown>): Promise<{ peer: TcpsPeer; reply: Record<string, unknown> }> {
  const { peer, reply } = await TcpsPeer.hello(tcps(), t.ca, { op: 'agentData', sessionId, secret: t.secret, ...extra });
  peers.push(peer);
  return { peer, reply: reply as Record<string, unknown> };
}

describe('agent data connection heartbeats over tcps (revision 1.7)', () => {
  it('bounds the deadline by heartbeat.timeoutMs and three of the peer intervals', () => {
    expect(heartbeatTimeoutFor(60_000, 5_000)).toBe(60_000);
    expect(heartbeatTimeoutFor(1_000, 5_000)).toBe(15_000);
  });

  it('answers heartbeatMs with heartbeatTimeoutMs, echoes the heartbeats to the agent and never forwards them to the client', async () => {
    const { client, clientReply, sessionId } = await sessionWaitingForData('hb-echo');
    const { peer, reply } = await agentData(sessionId, { heartbeatMs: 100 });
    expect(reply).toEqual({ ok: true, heartbeatTimeoutMs: 400 });
    expect(await clientReply).toEqual({ ok: true });
    const agentSide: Buffer[] = [peer.takeBuffered()];
    peer.socket.on('data', (chunk: Buffer) => agentSide.push(chunk));
    const clientSide: Buffer[] = [client.takeBuffered()];
    client.socket.on('data', (chunk: Buffer) => clientSide.push(chunk));
    peer.socket.write(encodeDapMessage(heartbeatMessage()));
    peer.socket.write(encodeDapMessage({ seq: 7, type: 'event', event: 'output', body: { output: 'hello' } }));
    await eventually(() => Buffer.concat(clientSide).toString().includes('"output":"hello"'));
    await eventually(() => Buffer.concat(agentSide).toString().includes('"event":"dbgrelay.heartbeat"'));
    expect(Buffer.concat(clientSide).toString()).not.toContain('heartbeat');
    // the client's requests still reach the agent, without any heartbeat of the relay's own
    client.socket.write(threads);
    await eventually(() => Buffer.concat(agentSide).toString().includes('"command":"threads"'));
    expect(Buffer.concat(agentSide).toString().split('dbgrelay.heartbeat').length - 1).toBe(1);
  });

  it('closes an agent data connection silent past the deadline, and the client session with it', async () => {
    const { client, clientReply, sessionId } = await sessionWaitingForData('hb-silent');
    const { peer, reply } = await agentData(sessionId, { heartbeatMs: 100 });
    expect(reply['heartbeatTimeoutMs']).toBe(400);
    expect(await clientReply).toEqual({ ok: true });
    const openedAt = Date.now();
    // The agent sends nothing from now on (a black hole between agent and relay).
    await eventually(() => peer.ended, 3_000);
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(350);
    await eventually(() => client.ended, 3_000);
    expect(t.logText()).toContain('heartbeat deadline passed');
  });

  it('applies no deadline to a data connection without heartbeatMs (and answers a plain ok)', async () => {
    const { clientReply, sessionId } = await sessionWaitingForData('hb-none');
    const { peer, reply } = await agentData(sessionId, {});
    expect(reply).toEqual({ ok: true });
    expect(await clientReply).toEqual({ ok: true });
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(peer.ended).toBe(false);
  });
});
