import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAgent } from '../../support/fakes/fakeAgent.js';
import { eventually, makeCertificates, startTestRelay, type FixtureCertificates, type TestRelay } from '../../support/relay/relayFixture.js';
import { basicAuth, httpsGet, openWebSocket, refusedWebSocket, TcpsPeer } from '../../support/relay/relayPeers.js';

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

const agentAt = (i: number) => (): FakeAgent => agents[i]!;
const [web1, web2, web3] = [agentAt(0), agentAt(1), agentAt(2)];
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

describe('attach-secret guessing from many sources', () => {
  /** Behind a trusted front end (127.0.0.1), each request names its own client address. */
  let d: TestRelay;
  let agent: FakeAgent;
  const targetSecret = 'distributed-target-Hk4Wq9Zr-UNIQUE';
  const from = (ip: string, secret: string): Record<string, string> => ({ ...basicAuth(secret), 'X-Forwarded-For': ip });

  beforeAll(async () => {
    d = await startTestRelay(certs, { frontEnd: { trustedProxies: ['127.0.0.1'] }, ptvsd: { enabled: true, defaultTarget: 'web-d' } });
    agent = await FakeAgent.connect({ via: 'wss', address: d.relay.wssAddress!, ca: d.ca, secret: d.secret, name: 'web-d', agentId: 'd1', attachSecret: targetSecret });
    await agent.next('registered');
  });

  afterAll(async () => {
    agent?.close();
    await d?.close();
  });

  it('compare at most the threshold of guesses per target, whatever the sources; the relay secret still attaches', async () => {
    const wss = d.relay.wssAddress!;
    const codes: string[] = [];
    // 34 sources, 3 guesses each over /v1/attach and /ptvsd: no source comes near its own lockout (10).
    for (let round = 0; round < 3; round++) {
      for (let s = 0; s < 34; s++) {
        const path = s % 2 === 0 ? '/v1/attach/web-d' : '/ptvsd';
        const refusal = await refusedWebSocket(wss, path, d.ca, from(`198.51.100.${s}`, `guess-${round}-${s}-0123456789`));
        codes.push((refusal.body as { error: { code: string } }).error.code);
      }
    }
    expect(codes.filter((c) => c === 'AUTH_FAILED')).toHaveLength(10);
    expect(codes.slice(10).every((c) => c === 'AUTH_LOCKED')).toBe(true);
    // A fresh source with the right attach secret waits too (the closing is short), over both paths...
    expect(await refusedWebSocket(wss, '/v1/attach/web-d', d.ca, from('203.0.113.5', targetSecret))).toMatchObject({ status: 429, body: { error: { code: 'AUTH_LOCKED' } } });
    expect(await refusedWebSocket(wss, '/ptvsd', d.ca, from('203.0.113.5', targetSecret))).toMatchObject({ status: 429 });
    // ...the relay secret does not, and no source got locked out.
    const before = opens(agent);
    const ws = await openWebSocket(wss, '/v1/attach/web-d', d.ca, from('203.0.113.5', d.secret));
    ws.terminate();
    expect(opens(agent)).toBe(before + 1);
    expect(await d.relay.metrics.valueOf('dbgrelay_auth_attach_closings_total')).toBe(1);
    expect(await d.relay.metrics.valueOf('dbgrelay_auth_locked_sources')).toBe(0);
    expect(d.logLines()).toContainEqual(expect.objectContaining({ msg: 'target closed to attach-secret guesses', target: 'web-d', source: '198.51.100.9' }));
    expect(d.logText()).not.toContain('UNIQUE');
  });

  it('refuse a register whose attach secret is too short, telling the agent why', async () => {
    const weak = await FakeAgent.connect({ via: 'tcps', address: d.relay.tcpsAddress!, ca: d.ca, secret: d.secret, name: 'web-weak', agentId: 'w1', attachSecret: 'letmein' });
    await eventually(() => weak.closed);
    expect(weak.messages).toContainEqual({ type: 'error', code: 'BAD_REQUEST', message: expect.stringMatching(/attach secret too short: 7 characters, at least 16/) });
    expect(d.relay.registry.lookup('web-weak')).toBeUndefined();
    expect(d.logText()).not.toContain('letmein');
  });
});
