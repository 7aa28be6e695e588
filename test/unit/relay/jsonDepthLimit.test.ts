import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeDapMessage } from '../../../src/dap/dapFramer.js';
import { FakeAgent } from '../../support/fakes/fakeAgent.js';
import { eventually, makeCertificates, startTestRelay, type TestRelay } from '../../support/relay/relayFixture.js';
import { basicAuth, openWebSocket, TcpsPeer } from '../../support/relay/relayPeers.js';

/**
 * `limits.maxJsonDepth` bounds every JSON text the relay parses from the network (here
 * set to 16, below the default 64, so that the key, not the default, is what refuses):
 * hello lines, control messages over tcps and wss, and DAP messages of a session. Each
 * refusal is `BAD_REQUEST`, ends only its own connection, and is counted in
 * `dbgrelay_json_depth_refusals_total{message}`.
 */
const maxJsonDepth = 16;
let t: TestRelay;
const agents: FakeAgent[] = [];

beforeAll(async () => {
  t = await startTestRelay(makeCertificates(), { limits: { handshakeTimeoutMs: 1_000, openTimeoutMs: 1_000, maxJsonDepth } });
});

afterAll(async () => {
  for (const agent of agents) agent.close();
  await t?.close();
});

const tcps = () => t.relay.tcpsAddress!;

/** `depth` levels of nested arrays. */
function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

async function refusals(message: 'dap' | 'control' | 'hello'): Promise<number> {
  const metric = await t.relay.metrics.registry.getSingleMetric('dbgrelay_json_depth_refusals_total')!.get();
  return metric.values.find((value) => value.labels['message'] === message)?.value ?? -1;
}

describe('limits.maxJsonDepth', () => {
  it('exports the refusal counter at 0 for every kind of text', async () => {
    expect([await refusals('dap'), await refusals('control'), await refusals('hello')]).toEqual([0, 0, 0]);
  });

  it('refuses a hello line one level deeper than the key with BAD_REQUEST, before authentication, and counts it', async () => {
    const peer = await TcpsPeer.connect(tcps(), t.ca);
    // The object is level 1: `x` adds maxJsonDepth more.
    peer.socket.write(`{"dbgrelay":1,"op":"targets","secret":${JSON.stringify(t.secret)},"x":${nested(maxJsonDepth)}}\n`);
    expect(await peer.readLine()).toEqual({ ok: false, error: { code: 'BAD_REQUEST', message: `hello line nests deeper than ${maxJsonDepth} levels` } });
    await eventually(() => peer.ended);
    expect(await refusals('hello')).toBe(1);

    const atTheBound = await TcpsPeer.connect(tcps(), t.ca);
    atTheBound.socket.write(`{"dbgrelay":1,"op":"targets","secret":${JSON.stringify(t.secret)},"x":${nested(maxJsonDepth - 1)}}\n`);
    expect((await atTheBound.readLine()).error?.message ?? '').not.toMatch(/nests deeper/);
    atTheBound.socket.destroy();
    expect(await refusals('hello')).toBe(1);
  });

  it('closes a control connection (tcps and wss) whose message nests too deep, telling the agent why, and counts it', async () => {
    const { peer, reply } = await TcpsPeer.hello(tcps(), t.ca, { op: 'agent', secret: t.secret });
    expect(reply).toEqual({ ok: true });
    peer.socket.write(`{"type":"pong","id":${nested(maxJsonDepth)}}\n`);
    expect(await peer.readLine()).toMatchObject({ type: 'error', code: 'BAD_REQUEST', message: `control message nests deeper than ${maxJsonDepth} levels` });
    await eventually(() => peer.ended);

    const ws = await openWebSocket(t.relay.wssAddress!, '/v1/agent', t.ca, basicAuth(t.secret));
    const messages: unknown[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(String(data))));
    const closeCode = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.send(`{"type":"pong","id":${nested(maxJsonDepth)}}`);
    expect(await closeCode).toBe(1008);
    expect(messages).toContainEqual(expect.objectContaining({ type: 'error', code: 'BAD_REQUEST' }));
    expect(await refusals('control')).toBe(2);
  });

  it('ends a session whose client sends a DAP request nesting too deep, before it reaches the agent, and counts it', async () => {
    const fake = await FakeAgent.connect({ via: 'tcps', address: tcps(), ca: t.ca, secret: t.secret, name: 'deep-1', agentId: 'd'.repeat(32) });
    agents.push(fake);
    await eventually(() => t.relay.registry.lookup('deep-1') !== undefined);
    const { peer, reply } = await TcpsPeer.hello(tcps(), t.ca, { op: 'attach', target: 'deep-1', secret: t.secret });
    expect(reply).toEqual({ ok: true });
    const data = fake.dataConnections[0]!;
    const shallow = encodeDapMessage({ seq: 1, type: 'request', command: 'threads', arguments: { x: JSON.parse(nested(maxJsonDepth - 2)) } });
    peer.socket.write(shallow);
    await eventually(() => data.received().equals(shallow));
    peer.socket.write(encodeDapMessage({ seq: 2, type: 'request', command: 'threads', arguments: { x: JSON.parse(nested(maxJsonDepth - 1)) } }));
    await eventually(() => peer.ended && data.closed);
    expect(data.received().equals(shallow)).toBe(true);
    expect(await refusals('dap')).toBe(1);
    expect(t.logText()).toContain(`DAP message body nests deeper than ${maxJsonDepth} levels`);
    expect(fake.closed).toBe(false); // the agent's control connection lives on
  });
});
