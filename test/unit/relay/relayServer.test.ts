import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeDapMessage } from '../../../src/dap/dapFramer.js';
import { FakeAgent, type FakeAgentOptions } from '../../support/fakes/fakeAgent.js';
import { eventually, makeCertificates, startTestRelay, type FixtureCertificates, type TestRelay } from '../../support/relay/relayFixture.js';
import { basicAuth, httpsGet, openWebSocket, refusedWebSocket, TcpsPeer } from '../../support/relay/relayPeers.js';

let certs: FixtureCertificates;
let t: TestRelay;
const agents: FakeAgent[] = [];

beforeAll(async () => {
  certs = makeCertificates();
  t = await startTestRelay(certs);
});

afterAll(async () => {
  for (const agent of agents) agent.close();
  await t?.close();
});

const wss = () => t.relay.wssAddress!;
const tcps = () => t.relay.tcpsAddress!;
const auth = () => basicAuth(t.secret);

async function agent(via: 'wss' | 'tcps', name: string, agentId: string, extra: Partial<FakeAgentOptions> = {}): Promise<FakeAgent> {
  const address = via === 'wss' ? wss() : tcps();
  const made = await FakeAgent.connect({ via, address, ca: t.ca, secret: t.secret, name, agentId, ...extra });
  agents.push(made);
  return made;
}

const initialize = encodeDapMessage({ seq: 1, type: 'request', command: 'initialize', arguments: { adapterID: 'debugpy' } });
const initialized = encodeDapMessage({ seq: 1, type: 'event', event: 'initialized' });

describe('relay over wss and tcps', () => {
  it('refuses a wss upgrade without credentials with 401 before upgrading', async () => {
    const refusal = await refusedWebSocket(wss(), '/v1/attach/web-1', t.ca);
    expect(refusal).toEqual({ status: 401, body: { error: { code: 'AUTH_REQUIRED', message: expect.any(String) } } });
  });

  it('refuses a wrong secret with 401 AUTH_FAILED, on upgrades and on GET /v1/targets', async () => {
    expect(await refusedWebSocket(wss(), '/v1/agent', t.ca, basicAuth('wrong'))).toMatchObject({ status: 401, body: { error: { code: 'AUTH_FAILED' } } });
    expect(await httpsGet(wss(), '/v1/targets', t.ca, basicAuth('wrong'))).toMatchObject({ status: 401, body: { error: { code: 'AUTH_FAILED' } } });
  });

  it('refuses credentials in a query string with 400, and unknown paths with 404', async () => {
    expect(await refusedWebSocket(wss(), `/v1/attach/web-1?secret=${t.secret}`, t.ca)).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST' } } });
    expect(await refusedWebSocket(wss(), '/v1/nothing', t.ca, auth())).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect(await httpsGet(wss(), '/', t.ca, auth())).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });

  it('refuses a wrong or missing secret on tcps with an error line', async () => {
    const wrong = await TcpsPeer.hello(tcps(), t.ca, { op: 'attach', target: 'web-1', secret: 'wrong' });
    expect(wrong.reply).toEqual({ ok: false, error: { code: 'AUTH_FAILED', message: 'credential refused' } });
    const missing = await TcpsPeer.hello(tcps(), t.ca, { op: 'targets' });
    expect(missing.reply).toMatchObject({ ok: false, error: { code: 'AUTH_REQUIRED' } });
    const version = await TcpsPeer.hello(tcps(), t.ca, { dbgrelay: 2, op: 'targets', secret: t.secret });
    expect(version.reply).toMatchObject({ ok: false, error: { code: 'PROTOCOL_VERSION' } });
  });

  it('answers an unknown target with 404 / UNKNOWN_TARGET', async () => {
    expect(await refusedWebSocket(wss(), '/v1/attach/web-9', t.ca, auth())).toEqual({
      status: 404,
      body: { error: { code: 'UNKNOWN_TARGET', message: 'no target named "web-9" is connected' } },
    });
    const { reply } = await TcpsPeer.hello(tcps(), t.ca, { op: 'attach', target: 'web-9', secret: t.secret });
    expect(reply).toMatchObject({ ok: false, error: { code: 'UNKNOWN_TARGET' } });
    expect(await refusedWebSocket(wss(), '/v1/attach/..%2Fetc', t.ca, auth())).toMatchObject({ status: 400, body: { error: { code: 'TARGET_NAME_INVALID' } } });
  });

  it('registers agents over wss and tcps and lists them on both listeners', async () => {
    const a = await agent('wss', 'list-wss', 'id-list-wss');
    const b = await agent('tcps', 'list-tcps', 'id-list-tcps');
    expect(await a.next('registered')).toEqual({ type: 'registered', target: 'list-wss', heartbeat: { intervalMs: 100, timeoutMs: 400 } });
    await b.next('registered');
    const listed = await httpsGet(wss(), '/v1/targets', t.ca, auth());
    expect(listed.status).toBe(200);
    expect(listed.body.ok).toBe(true);
    expect(listed.body.targets).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'list-wss', transport: 'wss', host: 'test-host', pid: 4242, python: '3.12.1', debugpy: '1.8.22', labels: { env: 'test' }, sessions: 0 }),
        expect.objectContaining({ name: 'list-tcps', transport: 'tcps' }),
      ]),
    );
    const { reply } = await TcpsPeer.hello(tcps(), t.ca, { op: 'targets', secret: t.secret });
    expect(reply.ok).toBe(true);
    expect(reply.targets.map((target: { name: string }) => target.name)).toEqual(expect.arrayContaining(['list-wss', 'list-tcps']));
  });

  it.each([
    ['wss', 'wss'],
    ['tcps', 'tcps'],
    ['wss', 'tcps'],
  ] as const)('carries a %s client session to a %s agent, bytes both ways, and closes the other side', async (clientVia, agentVia) => {
    const name = `sess-${clientVia}-${agentVia}`;
    const fake = await agent(agentVia, name, `id-${name}`);
    await fake.next('registered');
    let clientReceived: () => Buffer;
    let sendFromClient: (b: Buffer) => void;
    let closeClient: () => void;
    if (clientVia === 'wss') {
      const ws = await openWebSocket(wss(), `/v1/attach/${name}`, t.ca, auth());
      const chunks: Buffer[] = [];
      ws.on('message', (data) => chunks.push(data as Buffer));
      clientReceived = () => Buffer.concat(chunks);
      sendFromClient = (b) => ws.send(b);
      closeClient = () => ws.close();
    } else {
      const { peer, reply } = await TcpsPeer.hello(tcps(), t.ca, { op: 'attach', target: name, secret: t.secret });
      expect(reply).toEqual({ ok: true });
      const chunks: Buffer[] = [peer.takeBuffered()];
      peer.socket.on('data', (c: Buffer) => chunks.push(c));
      clientReceived = () => Buffer.concat(chunks);
      sendFromClient = (b) => peer.socket.write(b);
      closeClient = () => peer.socket.end();
    }
    // The client was accepted only after the agent's data connection arrived.
    expect(fake.dataConnections).toHaveLength(1);
    const data = fake.dataConnections[0]!;
    expect((await httpsGet(wss(), '/v1/targets', t.ca, auth())).body.targets.find((x: { name: string }) => x.name === name).sessions).toBe(1);
    data.send(initialized); // the adapter may speak first
    sendFromClient(initialize.subarray(0, 7));
    sendFromClient(initialize.subarray(7));
    await eventually(() => data.received().equals(initialize) && clientReceived().equals(initialized));
    closeClient();
    await eventually(() => data.closed);
    await eventually(() => t.relay.registry.lookup(name)?.sessions === 0);
  });

  it('refuses a name held by another agentId and replaces a registration of the same agentId', async () => {
    const first = await agent('wss', 'shared', 'id-shared-1');
    await first.next('registered');
    const intruder = await agent('tcps', 'shared', 'id-shared-2');
    expect(await intruder.next('error')).toMatchObject({ type: 'error', code: 'TARGET_NAME_IN_USE' });
    await eventually(() => intruder.closed);
    expect(t.relay.registry.lookup('shared')?.agentId).toBe('id-shared-1');

    const again = await agent('tcps', 'shared', 'id-shared-1');
    await again.next('registered');
    await eventually(() => first.closed);
    expect(t.relay.registry.lookup('shared')?.transport).toBe('tcps');
  });

  it('removes a target whose agent stops answering heartbeats', async () => {
    const silent = await agent('wss', 'silent', 'id-silent', { answerPings: false });
    await silent.next('registered');
    expect(t.relay.registry.lookup('silent')).toBeDefined();
    await eventually(() => t.relay.registry.lookup('silent') === undefined, 2_000);
    expect(await silent.next('error')).toMatchObject({ code: 'HEARTBEAT_TIMEOUT' });
  });

  it('removes a target when its agent disconnects', async () => {
    for (const via of ['wss', 'tcps'] as const) {
      const leaving = await agent(via, `leaving-${via}`, `id-leaving-${via}`);
      await leaving.next('registered');
      leaving.close();
      await eventually(() => t.relay.registry.lookup(`leaving-${via}`) === undefined);
    }
  });

  it('refuses a session when the agent reports openFailed, and refuses a used session id', async () => {
    const fake = await agent('tcps', 'failing', 'id-failing', { autoOpen: false });
    await fake.next('registered');
    const attempt = refusedWebSocket(wss(), '/v1/attach/failing', t.ca, auth());
    const open = await fake.next('open');
    fake.send({ type: 'openFailed', sessionId: open['sessionId'], message: 'adapter down' });
    expect(await attempt).toEqual({
      status: 502,
      body: { error: { code: 'AGENT_OPEN_FAILED', message: 'the agent could not open the session: adapter down' } },
    });
    const reuse = await TcpsPeer.hello(tcps(), t.ca, { op: 'agentData', sessionId: open['sessionId'], secret: t.secret });
    expect(reuse.reply).toMatchObject({ ok: false, error: { code: 'UNKNOWN_SESSION' } });
  });

  it('accepts a session id once: a second data connection with it is refused', async () => {
    const fake = await agent('wss', 'once', 'id-once');
    await fake.next('registered');
    const { peer, reply } = await TcpsPeer.hello(tcps(), t.ca, { op: 'attach', target: 'once', secret: t.secret });
    expect(reply).toEqual({ ok: true });
    const open = await fake.next('open');
    expect(await refusedWebSocket(wss(), `/v1/agent/sessions/${open['sessionId']}`, t.ca, auth())).toMatchObject({
      status: 404,
      body: { error: { code: 'UNKNOWN_SESSION' } },
    });
    peer.socket.end();
    await eventually(() => fake.dataConnections[0]?.closed === true);
  });

  it('times out an open the agent never serves with AGENT_OPEN_TIMEOUT (504)', async () => {
    const fake = await agent('wss', 'mute', 'id-mute', { autoOpen: false });
    await fake.next('registered');
    expect(await refusedWebSocket(wss(), '/v1/attach/mute', t.ca, auth())).toMatchObject({ status: 504, body: { error: { code: 'AGENT_OPEN_TIMEOUT' } } });
  });

  it('closes a control connection whose message exceeds limits.maxControlMessageBytes', async () => {
    const { peer, reply } = await TcpsPeer.hello(tcps(), t.ca, { op: 'agent', secret: t.secret });
    expect(reply).toEqual({ ok: true });
    peer.socket.write('{"type":"register","pad":"' + 'x'.repeat(70 * 1024));
    expect(await peer.readLine()).toMatchObject({ type: 'error', code: 'MESSAGE_TOO_LARGE' });
    await eventually(() => peer.ended);

    const ws = await openWebSocket(wss(), '/v1/agent', t.ca, auth());
    const closeCode = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.send(JSON.stringify({ type: 'register', pad: 'x'.repeat(70 * 1024) }));
    expect(await closeCode).toBe(1009);
  });

  it('closes a control connection that sends garbage, telling the agent why', async () => {
    const { peer } = await TcpsPeer.hello(tcps(), t.ca, { op: 'agent', secret: t.secret });
    peer.socket.write('this is not json\n');
    expect(await peer.readLine()).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    await eventually(() => peer.ended);
  });

  it('never writes the secret to a log line, and logs one line per session start and end', () => {
    const text = t.logText();
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toContain(t.secret);
    const lines = t.logLines();
    expect(lines.some((l) => l['tag'] === 'auth' && l['code'] === 'AUTH_FAILED')).toBe(true);
    const started = lines.filter((l) => l['tag'] === 'session' && l['msg'] === 'session started');
    const ended = lines.filter((l) => l['tag'] === 'session' && l['msg'] === 'session ended');
    // Every session the earlier tests opened logged exactly one start and one end.
    expect(started.length).toBeGreaterThan(0);
    expect(ended.map((l) => l['session']).sort()).toEqual(started.map((l) => l['session']).sort());
    expect(ended.every((l) => typeof l['durationMs'] === 'number' && typeof l['outcome'] === 'string')).toBe(true);
  });
});
