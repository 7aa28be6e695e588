import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAgent } from './fakeAgent.js';
import { eventually, makeCertificates, startTestRelay, type FixtureCertificates, type TestRelay } from './relayFixture.js';
import { basicAuth, httpsGet, openWebSocket, refusedWebSocket, TcpsPeer } from './relayPeers.js';

/**
 * Per-target attach secrets (docs/protocol.md §2.2) against the real relay: the agent
 * sets one in `register`; a client presenting it may attach to that target only;
 * the relay keeps only a digest and never logs the clear value.
 */
const attachSecret = 'attach-web-1-Q7Zp9xKk2-UNIQUE';
const otherAttachSecret = 'attach-web-2-Lm3Rt8Vv1-UNIQUE';

let certs: FixtureCertificates;
let t: TestRelay;
const agents: FakeAgent[] = [];

beforeAll(async () => {
  certs = makeCertificates();
  t = await startTestRelay(certs);
  const wss = t.relay.wssAddress!;
  const tcps = t.relay.tcpsAddress!;
  agents.push(await FakeAgent.connect({ via: 'wss', address: wss, ca: t.ca, secret: t.secret, name: 'web-1', agentId: 'a1', attachSecret }));
  agents.push(await FakeAgent.connect({ via: 'tcps', address: tcps, ca: t.ca, secret: t.secret, name: 'web-2', agentId: 'a2', attachSecret: otherAttachSecret }));
  agents.push(await FakeAgent.connect({ via: 'wss', address: wss, ca: t.ca, secret: t.secret, name: 'web-3', agentId: 'a3' }));
  for (const agent of agents) await agent.next('registered');
});

afterAll(async () => {
  for (const agent of agents) agent.close();
  await t?.close();
});

const [web1, web2, web3] = [0, 1, 2].map((i) => () => agents[i]!);
const opens = (agent: FakeAgent): number => agent.messages.filter((m) => m['type'] === 'open').length;

describe('attach secrets', () => {
  it('keep only a digest: the registration and the target list hold no clear secret', () => {
    const entry = t.relay.registry.lookup('web-1')!;
    expect(entry.registration).not.toHaveProperty('attachSecret');
    expect(JSON.stringify(entry.registration)).not.toContain(attachSecret);
    expect(entry.endpoint.attachSecret?.matches(attachSecret)).toBe(true);
    expect(entry.endpoint.attachSecret?.matches(otherAttachSecret)).toBe(false);
    expect(JSON.stringify(entry.endpoint.attachSecret)).toBe('"[attach secret]"');
    expect(t.relay.registry.lookup('web-3')!.endpoint.attachSecret).toBeUndefined();
    expect(JSON.stringify(t.relay.registry.list())).not.toContain('UNIQUE');
  });

  it('let a client attach to their own target over wss and tcps', async () => {
    const before = opens(web1());
    const ws = await openWebSocket(t.relay.wssAddress!, '/v1/attach/web-1', t.ca, basicAuth(attachSecret));
    ws.terminate();
    const { peer, reply } = await TcpsPeer.hello(t.relay.tcpsAddress!, t.ca, { op: 'attach', target: 'web-2', secret: otherAttachSecret });
    expect(reply).toEqual({ ok: true });
    peer.socket.destroy();
    expect(opens(web1())).toBe(before + 1);
    await eventually(() => t.logLines().some((l) => l['msg'] === 'session started' && l['principal'] === 'attach-secret:web-2'));
  });

  it('are refused for another target, before the agent is asked to open anything', async () => {
    const [o1, o2, o3] = [opens(web1()), opens(web2()), opens(web3())];
    expect(await refusedWebSocket(t.relay.wssAddress!, '/v1/attach/web-2', t.ca, basicAuth(attachSecret))).toMatchObject({
      status: 401,
      body: { error: { code: 'AUTH_FAILED' } },
    });
    expect(await refusedWebSocket(t.relay.wssAddress!, '/v1/attach/web-3', t.ca, basicAuth(attachSecret))).toMatchObject({ status: 401 });
    const tcps = await TcpsPeer.hello(t.relay.tcpsAddress!, t.ca, { op: 'attach', target: 'web-1', secret: otherAttachSecret });
    expect(tcps.reply).toMatchObject({ ok: false, error: { code: 'AUTH_FAILED' } });
    tcps.peer.socket.destroy();
    // An unknown target is refused exactly like a wrong secret (nothing to learn about targets).
    const unknown = await TcpsPeer.hello(t.relay.tcpsAddress!, t.ca, { op: 'attach', target: 'nope', secret: attachSecret });
    expect(unknown.reply).toEqual({ ok: false, error: { code: 'AUTH_FAILED', message: 'credential refused' } });
    unknown.peer.socket.destroy();
    expect([opens(web1()), opens(web2()), opens(web3())]).toEqual([o1, o2, o3]);
  });

  it('refuse a wrong attach secret with AUTH_FAILED and no DAP byte', async () => {
    const { peer, reply } = await TcpsPeer.hello(t.relay.tcpsAddress!, t.ca, { op: 'attach', target: 'web-1', secret: attachSecret + 'x' });
    expect(reply).toMatchObject({ ok: false, error: { code: 'AUTH_FAILED' } });
    await eventually(() => peer.ended);
    expect(peer.takeBuffered().length).toBe(0);
  });

  it('allow neither listing targets, nor registering, nor opening agent data connections', async () => {
    expect(await httpsGet(t.relay.wssAddress!, '/v1/targets', t.ca, basicAuth(attachSecret))).toMatchObject({ status: 401 });
    const targets = await TcpsPeer.hello(t.relay.tcpsAddress!, t.ca, { op: 'targets', secret: attachSecret });
    expect(targets.reply).toMatchObject({ ok: false, error: { code: 'AUTH_FAILED' } });
    targets.peer.socket.destroy();
    expect(await refusedWebSocket(t.relay.wssAddress!, '/v1/agent', t.ca, basicAuth(attachSecret))).toMatchObject({ status: 401 });
    const agent = await TcpsPeer.hello(t.relay.tcpsAddress!, t.ca, { op: 'agent', secret: attachSecret });
    expect(agent.reply).toMatchObject({ ok: false, error: { code: 'AUTH_FAILED' } });
    agent.peer.socket.destroy();
  });

  it('do not replace the relay secret: it still opens every target', async () => {
    const before = opens(web3());
    const ws = await openWebSocket(t.relay.wssAddress!, '/v1/attach/web-3', t.ca, basicAuth(t.secret));
    ws.terminate();
    expect(opens(web3())).toBe(before + 1);
  });

  it('refuse a hello with both a secret and a token', async () => {
    const { peer, reply } = await TcpsPeer.hello(t.relay.tcpsAddress!, t.ca, { op: 'attach', target: 'web-1', secret: attachSecret, token: 'a.b.c' });
    expect(reply).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    peer.socket.destroy();
  });

  it('never appear in the relay log', () => {
    expect(t.logText().length).toBeGreaterThan(0);
    expect(t.logText()).not.toContain('UNIQUE');
    expect(t.logText()).not.toContain(t.secret);
  });
});
