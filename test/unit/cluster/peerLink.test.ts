import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentConnection } from '../../../src/agents/agentConnection.js';
import type { AgentHub } from '../../../src/agents/agentHub.js';
import { AttachSecret, attachSecretPrincipal } from '../../../src/auth/attachSecret.js';
import type { Principal } from '../../../src/auth/principal.js';
import { createCa, createLeaf, loopbackNames, type CertificateAndKey } from '../../../src/certs/certificateFactory.js';
import { ClusterMetrics } from '../../../src/cluster/clusterMetrics.js';
import type { ClusterStore } from '../../../src/cluster/clusterStore.js';
import { agentDataHelloLine } from '../../../src/cluster/peerHello.js';
import { startPeerListener } from '../../../src/cluster/peerListener.js';
import { loadPeerTls, type PeerTls } from '../../../src/cluster/peerTls.js';
import { SessionRouter } from '../../../src/cluster/sessionRouter.js';
import { RelayError } from '../../../src/common/relayError.js';
import type { RunningListener } from '../../../src/net/serverSockets.js';
import type { SessionBroker, SessionRequest } from '../../../src/session/sessionBroker.js';
import { TargetRegistry } from '../../../src/targets/targetRegistry.js';

/** The TLS link between relay instances, on loopback with certificates made here: who may speak as a peer, and how long a forwarder waits. */
const silent = pino({ level: 'silent' });
const engineer: Principal = { id: 'relay-secret', grants: { register: [], attach: ['*'], admin: false }, method: 'secret' };
let ca: CertificateAndKey;
let peer: PeerTls;
let clientOnly: CertificateAndKey;
const listeners: RunningListener[] = [];
const refusalsRecorded: string[] = [];
/** Refusals the forwarding instance recorded itself. */
const forwarderRecorded: string[] = [];

/** A holder whose broker accepts a forwarded session after `delayMs`; its hub knows no session; `registry` holds its targets. */
async function holder(delayMs: number, registry = new TargetRegistry<AgentConnection>()): Promise<RunningListener> {
  const broker = {
    prepare: async (request: SessionRequest) => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (request.signal?.aborted) throw new RelayError('AGENT_GONE', 'the client left');
      return { start: () => undefined, abort: () => undefined };
    },
    recordRefusal: (_request: SessionRequest, refusal: RelayError) => refusalsRecorded.push(refusal.code),
  } as unknown as SessionBroker;
  const hub = {
    claimSession: () => {
      throw new RelayError('UNKNOWN_SESSION', 'unknown, used or expired session id');
    },
  } as unknown as AgentHub;
  const listener = await startPeerListener({
    host: '127.0.0.1',
    port: 0,
    tls: peer,
    broker,
    hub,
    registry,
    heartbeatTimeoutMs: 30_000,
    handshakeTimeoutMs: 5_000,
    metrics: new ClusterMetrics(new Registry()),
    logger: silent,
  });
  listeners.push(listener);
  return listener;
}

/** Dials `port` with `identity`, sends one hello line and returns the answer line. */
function answerTo(port: number, identity: CertificateAndKey, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, cert: identity.certPem, key: identity.keyPem, ca: ca.certPem, checkServerIdentity: () => undefined });
    let received = '';
    socket.on('secureConnect', () => socket.write(line));
    socket.on('data', (data: Buffer) => {
      received += data.toString();
      if (received.includes('\n')) {
        socket.destroy();
        resolve(received.slice(0, received.indexOf('\n')));
      }
    });
    socket.on('error', reject);
  });
}

function router(port: number, answerMs: number, attachSecret?: string, own: { tls: PeerTls; logger: pino.Logger } = { tls: peer, logger: silent }): SessionRouter {
  const route = { instance: 'relay-b', peer: `127.0.0.1:${port}`, fence: 1, ...(attachSecret ? { attachSecret } : {}) };
  const store = { reachable: true, route: async () => route } as unknown as ClusterStore;
  const broker = { authorize: () => undefined, recordRefusal: (_request: SessionRequest, refusal: RelayError) => forwarderRecorded.push(refusal.code) } as unknown as SessionBroker;
  return new SessionRouter({
    instanceId: 'relay-a',
    registry: new TargetRegistry<AgentConnection>(),
    broker,
    store,
    tls: own.tls,
    forwardTimeoutMs: 100,
    sessionAnswerTimeoutMs: answerMs,
    metrics: new ClusterMetrics(new Registry()),
    logger: own.logger,
  });
}

const request: SessionRequest = { principal: engineer, target: 'web', via: 'tcps', clientAddress: '127.0.0.1:4000' };

beforeAll(() => {
  ca = createCa('test cluster CA');
  const leaf = createLeaf(ca, 'relay-b', { server: loopbackNames, client: true });
  peer = { cert: leaf.certPem, key: leaf.keyPem, ca: ca.certPem };
  clientOnly = createLeaf(ca, 'alice', { client: true });
});

afterAll(async () => {
  for (const listener of listeners) await listener.close();
});

describe('the link between relay instances', () => {
  it('admits only peer certificates: a client certificate of the same CA cannot speak for a principal', async () => {
    const { address } = await holder(0);
    const hello = agentDataHelloLine({ from: 'relay-a', sessionId: 'nope', principal: engineer });
    expect(JSON.parse(await answerTo(address.port, clientOnly, hello))).toMatchObject({ ok: false, code: 'AUTH_FAILED' });
    // a peer certificate gets past the check to the hub, which knows no such session
    expect(JSON.parse(await answerTo(address.port, { certPem: peer.cert, keyPem: peer.key }, hello))).toMatchObject({ ok: false, code: 'UNKNOWN_SESSION' });
  });

  it("waits for the holder's answer past the dial bound (the holder may wait for its agent and a takeover), and no longer than its own bound", async () => {
    const { address } = await holder(400);
    // forwardTimeoutMs is 100: a dial bound on the answer would refuse this session
    const prepared = await router(address.port, 3_000).prepare(request);
    prepared.abort();
    const refusal = await router(address.port, 150)
      .prepare(request)
      .then(
        () => undefined,
        (error: unknown) => error as RelayError,
      );
    expect(refusal?.code).toBe('CLUSTER_UNAVAILABLE');
    // the client is not told where the instances are
    expect(refusal?.message).not.toContain('127.0.0.1');
    expect(refusal?.message).not.toContain('relay-b');
  });

  it("checks a forwarded attach-secret principal against the holder's own secret, which the store may lag behind", async () => {
    const registry = new TargetRegistry<AgentConnection>();
    const agent = { attachSecret: AttachSecret.fromSecret('the-current-secret-0123456789'), close: () => undefined } as unknown as AgentConnection;
    const registration = { type: 'register', agentId: 'a1', target: { name: 'web' }, process: { pid: 1, host: 'h', python: '3', debugpy: '1', agent: '1' } } as const;
    registry.register(agent, registration, 'tcps');
    const { address } = await holder(0, registry);
    forwarderRecorded.length = 0;
    const current = agent.attachSecret!.sharedForm();
    // checked against the digest the store had before the agent's new registration; the route read afterwards has the new one
    const stale: SessionRequest = { ...request, principal: attachSecretPrincipal('web', AttachSecret.fromSecret('the-previous-secret-0123456789')) };
    await expect(router(address.port, 3_000, current).prepare(stale)).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    // recorded once, by the holder
    expect(refusalsRecorded).toEqual(['AUTH_FAILED']);
    expect(forwarderRecorded).toEqual([]);
    const good: SessionRequest = { ...request, principal: attachSecretPrincipal('web', agent.attachSecret!) };
    (await router(address.port, 3_000, current).prepare(good)).abort();
  });

  it("logs the fix when the instances' peer certificates come from different CAs", async () => {
    const { address } = await holder(0);
    const otherCa = createCa('another cluster CA');
    const stranger = createLeaf(otherCa, 'relay-a', { server: loopbackNames, client: true });
    const logged: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => logged.push(line) });
    const refusal = await router(address.port, 1_000, undefined, { tls: { cert: stranger.certPem, key: stranger.keyPem, ca: otherCa.certPem }, logger })
      .prepare(request)
      .then(
        () => undefined,
        (error: unknown) => error as RelayError,
      );
    expect(refusal?.code).toBe('CLUSTER_UNAVAILABLE');
    expect(logged.join('')).toContain("the peer's certificate is not signed by this instance's cluster.peer.caFile; give every instance a peer certificate of the one cluster CA");
  });

  it('refuses a peer CA that is also the CA of client certificates', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-peer-tls-'));
    const files = { certFile: join(dir, 'peer.pem'), keyFile: join(dir, 'peer.key'), caFile: join(dir, 'ca.pem') };
    writeFileSync(files.certFile, peer.cert);
    writeFileSync(files.keyFile, peer.key, { mode: 0o600 });
    writeFileSync(files.caFile, ca.certPem);
    const clientCa = join(dir, 'clients.pem');
    // the same CA in a bundle with another one, with CRLF line ends
    writeFileSync(clientCa, `${createCa('other clients').certPem}\n${ca.certPem.replaceAll('\n', '\r\n')}`);
    const settings = { ...files, host: '127.0.0.1', port: 0 } as Parameters<typeof loadPeerTls>[0];
    expect(() => loadPeerTls(settings, clientCa)).toThrow(/cluster\.peer\.caFile shares a CA certificate with tls\.clientCaFile/);
    writeFileSync(clientCa, createCa('clients').certPem);
    expect(loadPeerTls(settings, clientCa).ca.trim()).toBe(ca.certPem.trim());
    expect(loadPeerTls(settings, undefined).ca.trim()).toBe(ca.certPem.trim());
  });
});
