import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListenAddress } from '../../../src/relay/relayServer.js';
import { choosePtvsdTarget } from '../../../src/listeners/ptvsdTarget.js';
import { renderPtvsdInfoPage } from '../../../src/listeners/ptvsdInfoPage.js';
import { FakeAgent } from '../../support/fakes/fakeAgent.js';
import { eventually, makeCertificates, startTestRelay, type FixtureCertificates, type TestRelay } from '../../support/relay/relayFixture.js';
import { basicAuth, openWebSocket, refusedWebSocket } from '../../support/relay/relayPeers.js';

/** The ptvsd-compatible `/ptvsd` endpoint (Azure App Service model) on the real relay. */
const attachSecret = 'ptvsd-attach-secret-Zq81-UNIQUE';

function getText(
  address: ListenAddress,
  path: string,
  ca: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address.host, port: address.port, path, ca, headers, servername: 'localhost' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('choosePtvsdTarget', () => {
  it('takes ptvsd.defaultTarget, else the only connected target, else says why not', () => {
    expect(choosePtvsdTarget('web-9', ['web-1', 'web-2'])).toEqual({ target: 'web-9', how: 'configured' });
    expect(choosePtvsdTarget(undefined, ['web-1'])).toEqual({ target: 'web-1', how: 'onlyConnected' });
    expect(choosePtvsdTarget(undefined, [])).toEqual({ target: undefined, problem: 'no target is connected and ptvsd.defaultTarget is not set' });
    expect(choosePtvsdTarget(undefined, ['a', 'b'])).toMatchObject({
      target: undefined,
      problem: expect.stringMatching(/^2 targets are connected and ptvsd.defaultTarget is not set/),
    });
  });
});

describe('the /ptvsd info page', () => {
  it('shows a plain Host, and never reflects markup from it', () => {
    const choice = { target: 'web-1', how: 'configured' } as const;
    expect(renderPtvsdInfoPage({ host: 'debug.example.com', choice, connected: true })).toContain('wss://&lt;secret&gt;@debug.example.com/ptvsd');
    const page = renderPtvsdInfoPage({ host: '"><script>alert(1)</script>', choice, connected: false });
    expect(page).not.toContain('<script');
    expect(page).toContain('wss://&lt;secret&gt;@&lt;site&gt;/ptvsd');
    expect(page).toContain('Default target: web-1 (ptvsd.defaultTarget), not connected right now.');
  });
});

describe('/ptvsd on the relay', () => {
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

  it('answers a plain GET with the info page: no target yet, no secret, no caching', async () => {
    const page = await getText(t.relay.wssAddress!, '/ptvsd', t.ca, { Host: 'localhost:443' });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('The debugging proxy is configured.');
    expect(page.body).toContain('No default target: no target is connected and ptvsd.defaultTarget is not set.');
    expect(page.body).toContain('wss://&lt;secret&gt;@localhost:443/ptvsd');
    expect(page.body).not.toContain(t.secret);
  });

  it('authenticates an upgrade before saying there is no target', async () => {
    expect((await refusedWebSocket(t.relay.wssAddress!, '/ptvsd', t.ca)).body.error.code).toBe('AUTH_REQUIRED');
    const refusal = await refusedWebSocket(t.relay.wssAddress!, '/ptvsd', t.ca, basicAuth(t.secret));
    expect(refusal.status).toBe(404);
    expect(refusal.body.error).toEqual({ code: 'UNKNOWN_TARGET', message: 'no default target for /ptvsd: no target is connected and ptvsd.defaultTarget is not set' });
    expect((await refusedWebSocket(t.relay.wssAddress!, '/ptvsd?secret=x', t.ca, basicAuth(t.secret))).body.error.code).toBe('BAD_REQUEST');
  });

  it("attaches to the only connected target, with the relay secret or that target's attach secret", async () => {
    const agent = await FakeAgent.connect({ via: 'wss', address: t.relay.wssAddress!, ca: t.ca, secret: t.secret, name: 'web-1', agentId: 'p1', attachSecret });
    agents.push(agent);
    await agent.next('registered');
    const page = await getText(t.relay.wssAddress!, '/ptvsd/', t.ca);
    expect(page.body).toContain('Default target: web-1 (the only connected target), connected.');
    expect(page.body).not.toContain('UNIQUE');
    for (const secret of [attachSecret, t.secret]) {
      const ws = await openWebSocket(t.relay.wssAddress!, '/ptvsd', t.ca, basicAuth(secret));
      ws.terminate();
    }
    expect(agent.messages.filter((m) => m['type'] === 'open')).toHaveLength(2);
    await eventually(() => t.logLines().some((l) => l['msg'] === 'session started' && l['principal'] === 'attach-secret:web-1' && l['target'] === 'web-1'));
    const wrong = await refusedWebSocket(t.relay.wssAddress!, '/ptvsd', t.ca, basicAuth('not-it'));
    expect(wrong.body.error.code).toBe('AUTH_FAILED');
    expect(t.logLines().some((l) => l['msg'] === 'authentication refused' && l['endpoint'] === 'ptvsd')).toBe(true);
  });

  it('refuses, naming the fix, when several targets are connected and none is configured', async () => {
    const second = await FakeAgent.connect({ via: 'tcps', address: t.relay.tcpsAddress!, ca: t.ca, secret: t.secret, name: 'web-2', agentId: 'p2' });
    agents.push(second);
    await second.next('registered');
    const refusal = await refusedWebSocket(t.relay.wssAddress!, '/ptvsd', t.ca, basicAuth(t.secret));
    expect(refusal.body.error.code).toBe('UNKNOWN_TARGET');
    expect(refusal.body.error.message).toContain('2 targets are connected and ptvsd.defaultTarget is not set; set it');
  });
});

describe('/ptvsd with a configured default target, and turned off', () => {
  it('goes to ptvsd.defaultTarget only, and is a plain 404 with ptvsd.enabled false', async () => {
    const certs = makeCertificates();
    const configured = await startTestRelay(certs, { ptvsd: { enabled: true, defaultTarget: 'web-9' } });
    const off = await startTestRelay(certs, { ptvsd: { enabled: false } });
    const agent = await FakeAgent.connect({ via: 'wss', address: configured.relay.wssAddress!, ca: configured.ca, secret: configured.secret, name: 'web-1', agentId: 'q1' });
    try {
      await agent.next('registered');
      const page = await getText(configured.relay.wssAddress!, '/ptvsd', configured.ca);
      expect(page.body).toContain('Default target: web-9 (ptvsd.defaultTarget), not connected right now.');
      const refusal = await refusedWebSocket(configured.relay.wssAddress!, '/ptvsd', configured.ca, basicAuth(configured.secret));
      expect(refusal.body.error).toEqual({ code: 'UNKNOWN_TARGET', message: 'no target named "web-9" is connected' });
      expect(agent.messages.some((m) => m['type'] === 'open')).toBe(false);
      expect((await getText(off.relay.wssAddress!, '/ptvsd', off.ca)).status).toBe(404);
      expect((await refusedWebSocket(off.relay.wssAddress!, '/ptvsd', off.ca, basicAuth(off.secret))).body.error.code).toBe('NOT_FOUND');
    } finally {
      agent.close();
      await configured.close();
      await off.close();
    }
  });
});
