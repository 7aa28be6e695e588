import type WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audience, generateTestKey, issuer, keyDir, publicPem, signToken, writeKey } from '../../support/keys/jwtFixtures.js';
import { FakeAgent } from '../../support/fakes/fakeAgent.js';
import { makeCertificates, startTestRelay, type TestRelay } from '../../support/relay/relayFixture.js';
import { httpsGet, openWebSocket, refusedWebSocket, TcpsPeer } from '../../support/relay/relayPeers.js';

/**
 * JWT bearer tokens against the real relay: scopes decide what each session may do,
 * over wss and tcps (docs/protocol.md §2.3, §7).
 */
const key = generateTestKey('EdDSA');
const agentSecret = 'agent-secret-for-jwt-tests-0123456789';
let t: TestRelay;
const agents: FakeAgent[] = [];
const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });
const token = (scope: string, sub = 'alice', claims: Record<string, unknown> = {}) => signToken(key, { claims: { scope, sub, ...claims } });
const wss = () => t.relay.wssAddress!;
const tcps = () => t.relay.tcpsAddress!;

beforeAll(async () => {
  const keyFile = writeKey(keyDir(), 'verify.pem', publicPem(key.verifying));
  t = await startTestRelay(makeCertificates(), {
    auth: {
      secret: agentSecret,
      jwt: { enabled: true, algorithms: ['EdDSA'], issuer, audience, keyFile, maxLifetimeS: 3600 },
      lockout: { enabled: false },
    },
  });
  for (const name of ['web-1', 'db-1']) {
    agents.push(await FakeAgent.connect({ via: 'wss', address: wss(), ca: t.ca, secret: agentSecret, name, agentId: `agent-${name}` }));
    await agents.at(-1)!.next('registered');
  }
});
afterAll(async () => {
  for (const agent of agents) agent.close();
  await t?.close();
});

describe('listing targets with a token', () => {
  it('shows a client only the targets its attach scopes match, and an admin all of them', async () => {
    const client = await httpsGet(wss(), '/v1/targets', t.ca, bearer(await token('attach:web-*')));
    expect(client.status).toBe(200);
    expect(client.body.targets.map((x: { name: string }) => x.name)).toEqual(['web-1']);
    const admin = await httpsGet(wss(), '/v1/targets', t.ca, bearer(await token('admin', 'root')));
    expect(admin.body.targets.map((x: { name: string }) => x.name)).toEqual(['db-1', 'web-1']);
    const { reply } = await TcpsPeer.hello(tcps(), t.ca, { op: 'targets', token: await token('attach:db-?') });
    expect(reply.targets.map((x: { name: string }) => x.name)).toEqual(['db-1']);
  });

  it('refuses an agent-only token and an expired token', async () => {
    expect(await httpsGet(wss(), '/v1/targets', t.ca, bearer(await token('register:web-*', 'web-agent')))).toMatchObject({ status: 401, body: { error: { code: 'AUTH_FAILED' } } });
    const nowS = Math.floor(Date.now() / 1000);
    const expired = await token('admin', 'root', { iat: nowS - 1000, exp: nowS - 100 });
    expect(await httpsGet(wss(), '/v1/targets', t.ca, bearer(expired))).toMatchObject({ status: 401, body: { error: { code: 'AUTH_FAILED', message: 'token expired' } } });
  });
});

describe('attaching with a token', () => {
  it('opens a session with a matching target over wss and tcps, logged under jwt:<sub>', async () => {
    const ws: WebSocket = await openWebSocket(wss(), '/v1/attach/web-1', t.ca, bearer(await token('attach:web-*')));
    ws.terminate();
    const { peer, reply } = await TcpsPeer.hello(tcps(), t.ca, { op: 'attach', target: 'web-1', token: await token('attach:web-1') });
    expect(reply).toEqual({ ok: true });
    peer.socket.destroy();
    expect(t.logLines().some((l) => l['msg'] === 'session started' && l['principal'] === 'jwt:alice' && l['target'] === 'web-1')).toBe(true);
  });

  it('refuses a token for another target with AUTH_FAILED, the same whether that target is connected or not', async () => {
    const webOnly = await token('attach:web-*');
    const connected = await refusedWebSocket(wss(), '/v1/attach/db-1', t.ca, bearer(webOnly));
    const absent = await refusedWebSocket(wss(), '/v1/attach/db-9', t.ca, bearer(webOnly));
    expect(connected).toMatchObject({ status: 401, body: { error: { code: 'AUTH_FAILED' } } });
    expect(absent.body.error.code).toBe('AUTH_FAILED');
    const { reply } = await TcpsPeer.hello(tcps(), t.ca, { op: 'attach', target: 'db-1', token: webOnly });
    expect(reply.error.code).toBe('AUTH_FAILED');
    // The agent of db-1 was never asked to open a session.
    expect(agents[1]!.messages.some((m) => m['type'] === 'open')).toBe(false);
  });

  it('refuses an agent token used to attach, and a token with no scope at all', async () => {
    expect(await refusedWebSocket(wss(), '/v1/attach/web-1', t.ca, bearer(await token('register:web-*', 'web-agent')))).toMatchObject({ status: 401 });
    const { reply } = await TcpsPeer.hello(tcps(), t.ca, { op: 'attach', target: 'web-1', token: await token('') });
    expect(reply.error.code).toBe('AUTH_FAILED');
  });

  it('refuses a hello carrying both a secret and a token', async () => {
    const { reply } = await TcpsPeer.hello(tcps(), t.ca, { op: 'attach', target: 'web-1', secret: agentSecret, token: await token('attach:*') });
    expect(reply.error.code).toBe('BAD_REQUEST');
  });
});

describe('registering with a token', () => {
  it('refuses a client token on the agent endpoint before the upgrade', async () => {
    expect(await refusedWebSocket(wss(), '/v1/agent', t.ca, bearer(await token('attach:*')))).toMatchObject({ status: 401, body: { error: { code: 'AUTH_FAILED' } } });
    const { reply } = await TcpsPeer.hello(tcps(), t.ca, { op: 'agent', token: await token('attach:*') });
    expect(reply.error.code).toBe('AUTH_FAILED');
  });

  it('lets an agent token register a matching name only', async () => {
    const register = (name: string) => ({
      type: 'register',
      agentId: `jwt-agent-${name}`,
      target: { name },
      process: { pid: 1, host: 'h', python: '3.12.1', debugpy: '1.8.22', agent: '0.1.0' },
    });
    const agentToken = await token('register:app-*', 'app-agent');
    const { peer, reply } = await TcpsPeer.hello(tcps(), t.ca, { op: 'agent', token: agentToken });
    expect(reply).toEqual({ ok: true });
    peer.sendLine(register('db-2'));
    expect(await peer.readLine()).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });

    const second = await TcpsPeer.hello(tcps(), t.ca, { op: 'agent', token: agentToken });
    second.peer.sendLine(register('app-1'));
    expect(await second.peer.readLine()).toMatchObject({ type: 'registered', target: 'app-1' });
    const admin = await httpsGet(wss(), '/v1/targets', t.ca, bearer(await token('admin', 'root')));
    expect(admin.body.targets.map((x: { name: string }) => x.name)).toEqual(['app-1', 'db-1', 'web-1']);
    second.peer.socket.destroy();
  });
});

describe('credentials stay out of the log', () => {
  it('logs refusals with their code and never a token', async () => {
    const secretToken = await token('attach:web-*', 'alice', { aud: 'wrong' });
    await refusedWebSocket(wss(), '/v1/attach/web-1', t.ca, bearer(secretToken));
    const text = t.logText();
    expect(text).toContain('AUTH_FAILED');
    expect(text).not.toContain(secretToken.split('.')[2]!);
    expect(text).not.toContain(secretToken.split('.')[1]!);
  });
});
