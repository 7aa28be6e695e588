import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { helloBytes, helloProbe, httpProbe, type Outcome } from '../support/hostile/hostileProbes.js';
import { agentId, credential, signedToken, startHostileRelay, usedCredentials, wrongSecret, type HostileRelay } from '../support/hostile/hostileRelay.js';
import { hostileRows, legitimateSession, sendDap, type RowContext } from '../support/hostile/hostileRows.js';
import { FakeAgent as ProtocolAgent } from '../support/fakes/fakeAgent.js';
import { nextMessage, type Link } from '../support/relay/relayLinks.js';

/**
 * The hostile-input suite (issue 3, SECURITY.md "Hostile-input suite"): a table of
 * hostile or malformed inputs sent to a running relay (in-process, 127.0.0.1, real
 * TLS with the development CA, JWT, attach secrets and lockout enabled). Each row
 * expects one specific refusal, and after each row the relay must be unharmed: the
 * target list is exactly what it was (nothing registered, replaced or removed), the
 * two legitimate agents are still connected and received no `open` they should not
 * have, both listeners still answer a legitimate request, and the refusal quotes no
 * credential. After the table, legitimate clients attach over wss and tcps and DAP
 * bytes flow both ways; the relay's log holds none of the credentials used. A
 * separate relay shows the lockout itself.
 */
const web1AgentId = agentId();
const web2AgentId = agentId();
const web1AttachSecret = credential(`web-1-attach-${randomBytes(16).toString('base64url')}`);

// Top-level await: the table's rows are built against the running relay at collection time.
const h: HostileRelay = await startHostileRelay();
const agentToken = await signedToken(h, { sub: 'agent-web', scope: 'register:web-*', expIn: 1_800 });
const adminToken = await signedToken(h, { sub: 'ops', scope: 'admin', expIn: 1_800 });
const web1 = await ProtocolAgent.start(h.endpoints, { via: 'wss', credential: { token: agentToken }, name: 'web-1', agentId: web1AgentId, attachSecret: web1AttachSecret });
const web2 = await ProtocolAgent.start(h.endpoints, { via: 'tcps', credential: { secret: h.relay.secret }, name: 'web-2', agentId: web2AgentId });
const context: RowContext = { h, web1, web1AgentId, web1AttachSecret, web2, web2AgentId };

/** The registry as it matters here: who holds which name since when, over what (not the session counts). */
function registrySnapshot(): string {
  return JSON.stringify(h.relay.handle.registry.list().map(({ sessions: _sessions, ...target }) => target));
}
const baseline = registrySnapshot();
const rows = hostileRows(context);

afterAll(async () => {
  web1.close();
  web2.close();
  await h.relay.stop();
});

/** The invariants every row must leave intact. */
async function expectRelayUnharmed(opensBefore: number, opensSession: boolean): Promise<void> {
  expect(registrySnapshot(), 'the target list changed').toBe(baseline);
  expect([web1.disconnected, web2.disconnected], 'a legitimate agent was disconnected').toEqual([false, false]);
  expect(
    context.web1.control.received.some((m) => (m as { type?: string }).type === 'error'),
    'web-1 agent got an error',
  ).toBe(false);
  expect(
    context.web2.control.received.some((m) => (m as { type?: string }).type === 'error'),
    'web-2 agent got an error',
  ).toBe(false);
  if (!opensSession) expect(context.web1.opens.length + context.web2.opens.length, 'a refused input reached an agent').toBe(opensBefore);
  const listed = await httpProbe(h.wss, { path: '/v1/targets', headers: [['Authorization', `Bearer ${adminToken}`]] });
  expect(listed, 'wss listener no longer serves').toMatchObject({ status: 200, code: 'OK' });
  expect(await helloProbe(h.tcps, helloBytes({ dbgrelay: 1, op: 'targets', secret: h.relay.secret })), 'tcps listener no longer serves').toMatchObject({ code: 'OK' });
}

function expectNoCredentialIn(outcome: Outcome): void {
  for (const value of usedCredentials) {
    expect(outcome.message ?? '', 'refusal quotes a credential').not.toContain(value);
    expect(outcome.raw ?? '', 'response quotes a credential').not.toContain(value);
  }
}

describe('hostile inputs against a running relay', () => {
  it('has at least 40 rows, and starts from exactly the two legitimate targets', () => {
    expect(h.relay.handle.registry.list().map((t) => t.name)).toEqual(['web-1', 'web-2']);
    expect(rows.length).toBeGreaterThanOrEqual(40);
    expect(new Set(rows.map((row) => row.name)).size, 'row names are unique').toBe(rows.length);
  });

  it.each(rows.map((row) => [`${row.group}: ${row.name}`, row] as const))('%s', async (_title, row) => {
    const opensBefore = context.web1.opens.length + context.web2.opens.length;
    const outcome = await row.run();
    expect(outcome).toMatchObject(row.expect);
    if (row.why) expect(outcome.message).toMatch(row.why);
    expectNoCredentialIn(outcome);
    await expectRelayUnharmed(opensBefore, row.opensSession === true);
  });
});

describe('after the table, the relay still serves legitimate peers', () => {
  /** Sends a DAP request from the client, checks the agent got it, answers, checks the client got the answer. */
  async function roundTrip(client: Link, agent: ProtocolAgent): Promise<void> {
    const data = agent.dataLinks.at(-1)!;
    sendDap(client, 1, 'initialize', { adapterID: 'debugpy' });
    await waitFor(() => data.bytes().toString('utf8').includes('"command":"initialize"'), 'agent never received the DAP request');
    data.send(Buffer.from(`Content-Length: 64\r\n\r\n${JSON.stringify({ seq: 1, type: 'response', request_seq: 1, success: true, command: 'initialize' }).padEnd(64)}`));
    await waitFor(() => client.bytes().toString('utf8').includes('"request_seq":1'), 'client never received the DAP response');
    client.close();
  }

  it('a client token attaches to web-1 over wss', async () => {
    await roundTrip(await legitimateSession(h, 'wss', 'web-1', { token: await signedToken(h) }), context.web1);
  });

  it("web-1's attach secret attaches to web-1 over tcps", async () => {
    await roundTrip(await legitimateSession(h, 'tcps', 'web-1', { secret: web1AttachSecret }), context.web1);
  });

  it('the relay secret attaches to web-2 over tcps', async () => {
    await roundTrip(await legitimateSession(h, 'tcps', 'web-2', { secret: h.relay.secret }), context.web2);
  });

  it('both agents are still registered, as at the start, and still answer heartbeats', async () => {
    expect(registrySnapshot()).toBe(baseline);
    const pings = context.web1.messagesOf('ping').length;
    expect(await nextMessage(context.web1.control, (m) => m['type'] === 'ping' && Number(m['id']) > pings, 3_000)).toBeDefined();
  });

  it('counted the refusals and wrote no credential to the log', async () => {
    // Rows refused by authentication itself (not by authorization after it) are all counted.
    const counted = (code: string): number => rows.filter((row) => row.expect.code === code && ['credentials (wss)', 'bearer tokens (JWT)'].includes(row.group)).length;
    expect(counted('AUTH_FAILED')).toBeGreaterThan(20);
    expect(await h.relay.handle.metrics.valueOf('dbgrelay_auth_failures_total', { reason: 'AUTH_FAILED' })).toBeGreaterThanOrEqual(counted('AUTH_FAILED'));
    expect(await h.relay.handle.metrics.valueOf('dbgrelay_auth_failures_total', { reason: 'AUTH_REQUIRED' })).toBeGreaterThanOrEqual(counted('AUTH_REQUIRED'));
    expect(await h.relay.handle.metrics.valueOf('dbgrelay_auth_lockouts_total')).toBe(0);
    const log = h.relay.logText();
    expect(log).toMatch(/authentication refused/);
    for (const value of usedCredentials) expect(log.includes(value), 'a credential reached the relay log').toBe(false);
  });
});

describe('brute force: repeated failures lock the source out', () => {
  let locking: E2eRelay;

  beforeAll(async () => {
    // Same certificate as the table's relay; its own secret; lockout after 3 failures.
    locking = await startE2eRelay({
      overrides: {
        tls: { certFile: join(h.relay.dataDir, 'server.pem'), keyFile: join(h.relay.dataDir, 'server-key.pem') },
        auth: { lockout: { enabled: true, threshold: 3, windowMs: 60_000, baseMs: 60_000, maxMs: 120_000 } },
      },
    });
    credential(locking.secret);
  });

  afterAll(async () => {
    await locking?.stop();
  });

  it('answers AUTH_LOCKED (429, and in the tcps hello) even to the right secret, while other sources go on', async () => {
    const ca = readFileSync(h.relay.caFile, 'utf8');
    const wss = { port: locking.handle.wssAddress!.port, ca };
    const tcps = { port: locking.handle.tcpsAddress!.port, ca };
    const basic = (secret: string): Array<[string, string]> => [['Authorization', `Basic ${Buffer.from(`${secret}:`).toString('base64')}`]];
    for (let i = 0; i < 3; i++) {
      expect(await httpProbe(wss, { path: '/v1/targets', headers: basic(wrongSecret()) })).toMatchObject({ status: 401, code: 'AUTH_FAILED' });
    }
    const locked = await httpProbe(wss, { path: '/v1/targets', headers: basic(locking.secret) });
    expect(locked).toMatchObject({ status: 429, code: 'AUTH_LOCKED' });
    expect(locked.message).toMatch(/try again in \d+ s/);
    expect(await helloProbe(tcps, helloBytes({ dbgrelay: 1, op: 'targets', secret: locking.secret }))).toMatchObject({ code: 'AUTH_LOCKED' });
    expect(await locking.handle.metrics.valueOf('dbgrelay_auth_lockouts_total')).toBe(1);
    // Another loopback source (127.0.0.2) is not locked: the relay keeps serving it.
    const other = await httpProbe(wss, { path: '/v1/targets', headers: basic(locking.secret) }, 3_000, { localAddress: '127.0.0.2' });
    expect(other).toMatchObject({ status: 200, code: 'OK' });
    expect(locking.logText()).not.toContain(locking.secret);
  });
});

async function waitFor(check: () => boolean, failure: string, timeoutMs = 3_000): Promise<void> {
  await vi.waitFor(
    () => {
      if (!check()) throw new Error(failure);
    },
    { timeout: timeoutMs, interval: 10 },
  );
}
