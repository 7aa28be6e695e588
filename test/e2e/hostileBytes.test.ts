import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DapTestClient } from '../support/dap/dapTestClient.js';
import type { Debuggee } from '../support/processes/debuggee.js';
import { helloBytes, helloProbe, httpProbe, tcpExchange, type ProbeTarget } from '../support/hostile/hostileProbes.js';
import { FakeAgent as ProtocolAgent } from '../support/fakes/fakeAgent.js';
import type { RelayEndpoints } from '../support/relay/relayLinks.js';
import { startRawRelayTunnel, type RawRelayTunnel } from '../support/relay/rawRelayTunnel.js';
import { attachSession, startAttach, startListedDebuggee, type ClientAccess } from '../support/relay/relayClient.js';
import { startRelayProcess, type RelayProcess } from '../support/processes/relayProcess.js';

/**
 * No single message takes the relay down (issue "Hostile inputs, round two"): a relay
 * process with session transcripts on, and a live session with a real debugpy, while
 * every listener gets hostile bytes: DAP requests nested 8000 levels deep from a
 * client (tcps and wss), the same from an agent toward a client, a deep control
 * message, a deep hello line, bytes that are not TLS, a broken HTTP request, junk on
 * the metrics listener and the /ptvsd endpoint. Before, the deep message killed the
 * relay process (`JSON.stringify` threw `RangeError` in the transcript writer, inside
 * a socket handler). After each input the process must be alive and the live
 * session must still answer.
 */
const deep = 8000;
const children: ChildProcess[] = [];
let relay: RelayProcess;
let debuggee: Debuggee;
let live: DapTestClient;
let closeLive: () => Promise<void>;
let fake: ProtocolAgent;
let endpoints: RelayEndpoints;
let metricsPort: number;

function deeplyNested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

function frame(body: string): Buffer {
  return Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

const deepRequest = frame(`{"seq":1,"type":"request","command":"evaluate","arguments":{"expression":"1","x":${deeplyNested(deep)}}}`);
const deepEventBody = `{"seq":1,"type":"event","event":"output","body":{"output":"x","data":${deeplyNested(deep)}}}`;
const deepEvent = frame(deepEventBody);

/** Every session transcript of the relay so far, one after the other. */
function transcriptText(): string {
  const dir = join(relay.dataDir, 'transcripts');
  return readdirSync(dir)
    .map((name) => readFileSync(join(dir, name), 'utf8'))
    .join('');
}

function access(scheme: 'wss' | 'tcps'): ClientAccess {
  return relay.access(scheme);
}

function target(port: number): ProbeTarget {
  return { port, ca: endpoints.ca };
}

/** The relay process runs and the live debugpy session answers a request. */
async function expectRelayServing(): Promise<void> {
  expect(relay.serve.child.exitCode, `relay exited:\n${relay.serve.output().slice(-2000)}`).toBeNull();
  expect(relay.serve.child.signalCode).toBeNull();
  const threads = await live.request('threads', {}, 5_000);
  expect(Array.isArray((threads.body as { threads?: unknown }).threads)).toBe(true);
}

/** Opens a raw client session with the fake agent's target; resolves once the agent holds its data link. */
async function fakeSession(scheme: 'wss' | 'tcps'): Promise<{ tunnel: RawRelayTunnel; ended: () => boolean }> {
  const linksBefore = fake.dataLinks.length;
  const tunnel = await startRawRelayTunnel(access(scheme), 'fake-1');
  const client = await DapTestClient.connect(tunnel.port);
  await vi.waitFor(() => expect(fake.dataLinks.length).toBe(linksBefore + 1), { timeout: 5_000 });
  return { tunnel, ended: () => client.isConnectionClosed };
}

beforeAll(async () => {
  relay = await startRelayProcess({ audit: { transcripts: { enabled: true } }, metrics: { enabled: true, host: '127.0.0.1', port: 0 } }, children);
  const [, metricsUrl] = await relay.serve.waitFor(/metrics, \/healthz and \/readyz on (http:\/\/127\.0\.0\.1:\d+)/, 10_000);
  metricsPort = Number(new URL(metricsUrl!).port);
  endpoints = { wssPort: Number(new URL(relay.wssUrl).port), tcpsPort: Number(new URL(relay.tcpsUrl).port), ca: readFileSync(relay.caFile, 'utf8') };
  debuggee = await startListedDebuggee(access('tcps'), 'live');
  const attach = await startAttach(access('tcps'), 'live');
  live = await attachSession(attach.address.port, {});
  closeLive = async () => {
    await live.close();
    await attach.close();
  };
  fake = await ProtocolAgent.start(endpoints, { via: 'tcps', credential: { secret: relay.secret }, name: 'fake-1', agentId: 'a'.repeat(32) });
}, 60_000);

afterAll(async () => {
  await closeLive?.();
  fake?.close();
  debuggee?.kill();
  await relay?.stop();
});

describe('hostile bytes on every listener, with transcripts on and a live session', () => {
  it.each(['tcps', 'wss'] as const)('a client request nested 8000 levels deep (over %s) ends only its own session', async (scheme) => {
    const { tunnel, ended } = await fakeSession(scheme);
    tunnel.inject(deepRequest);
    await vi.waitFor(() => expect(ended()).toBe(true), { timeout: 5_000 });
    await tunnel.close();
    await expectRelayServing();
  });

  it('an agent sending a client an event nested 8000 levels deep harms nobody else; the transcript holds its bytes', async () => {
    const { tunnel } = await fakeSession('tcps');
    fake.dataLinks.at(-1)!.send(deepEvent);
    // An `output` event is not inspected: the relay forwards it (after writing it to the transcript).
    await vi.waitFor(() => expect(tunnel.received()).toContain(deepEventBody), { timeout: 5_000 });
    await vi.waitFor(() => expect(transcriptText()).toContain(`"dir":"toClient","from":"peer","msg":${deepEventBody}}\n`), { timeout: 5_000 });
    await tunnel.close();
    await expectRelayServing();
  });

  it('a control message nested 8000 levels deep closes that agent only', async () => {
    const other = await ProtocolAgent.start(endpoints, { via: 'wss', credential: { secret: relay.secret }, name: 'fake-2', agentId: 'b'.repeat(32) });
    other.control.send(`{"type":"pong","id":${deeplyNested(deep)}}`);
    await vi.waitFor(() => expect(other.disconnected).toBe(true), { timeout: 5_000 });
    expect(fake.disconnected).toBe(false);
    await expectRelayServing();
  });

  it('a hello line nested 2000 levels deep (within its 8 KiB) is refused with BAD_REQUEST', async () => {
    const outcome = await helloProbe(target(endpoints.tcpsPort), `{"dbgrelay":1,"op":"targets","x":${deeplyNested(2000)}}\n`);
    expect(outcome).toMatchObject({ code: 'BAD_REQUEST' });
    await expectRelayServing();
  });

  it('bytes that are not TLS, a broken HTTP request, junk on the metrics listener and on /ptvsd', async () => {
    const junk = Buffer.from(`\x16\x03\x01\xff\xff${'\0'.repeat(64)}GET / HTTP/1.1\r\n\r\n`, 'latin1');
    await tcpExchange(endpoints.tcpsPort, junk, 1_000);
    await tcpExchange(endpoints.wssPort, junk, 1_000);
    await tcpExchange(metricsPort, `GET /${'['.repeat(deep)} HTTP/1.1\r\nHost: x\r\n${'X: y\r\n'.repeat(500)}\r\n`, 1_000);
    const broken = await httpProbe(target(endpoints.wssPort), 'GET /v1/agent HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nContent-Length: -1\r\n\r\n');
    expect(broken.kind === 'http' || broken.kind === 'closed').toBe(true);
    const ptvsd = await httpProbe(target(endpoints.wssPort), {
      path: '/ptvsd',
      upgrade: true,
      headers: [['Authorization', `Basic ${Buffer.from(deeplyNested(deep)).toString('base64')}`]],
    });
    expect(ptvsd.status).not.toBe(101);
    expect(await helloProbe(target(endpoints.tcpsPort), helloBytes({ dbgrelay: 1, op: 'targets', secret: relay.secret }))).toMatchObject({ code: 'OK' });
    await expectRelayServing();
  });

  it('counted each deep text it refused in dbgrelay_json_depth_refusals_total', async () => {
    const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    const text = await scrape.text();
    const count = (message: string): number => Number(new RegExp(`^dbgrelay_json_depth_refusals_total\\{message="${message}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
    // Two client requests (tcps, wss), one control message, one hello line; the agent's event was forwarded, not parsed.
    expect({ dap: count('dap'), control: count('control'), hello: count('hello') }).toEqual({ dap: 2, control: 1, hello: 1 });
  });
});
