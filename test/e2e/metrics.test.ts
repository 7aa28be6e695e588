import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { certificateFingerprint, createCa } from '../../src/certs/certificateFactory.js';
import { packageVersion } from '../../src/common/packageVersion.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttachServer } from '../../src/client/attachServer.js';
import { startDebuggee, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { attachSession, startAttach, waitForStop, waitForTargets, type ClientAccess } from '../support/relay/relayClient.js';

/**
 * The metrics listener of a real relay after real sessions: one debugging session of
 * a real debugpy through each transport, then `/metrics` (with its bearer token),
 * `/healthz` and `/readyz` as Prometheus and a kubelet see them.
 */
const scrapeToken = 'e2e-scrape-token-' + Math.random().toString(36).slice(2);
let relay: E2eRelay;
let base: string;
const debuggees: Debuggee[] = [];
const attaches: AttachServer[] = [];

/** GET `path` on the relay's main (wss) listener, trusting its development CA. */
function probeWss(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpsGet(`${relay.wssUrl.replace(/^wss:/, 'https:')}${path}`, { ca: readFileSync(relay.caFile) }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
}

async function scrape(): Promise<string> {
  const response = await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${scrapeToken}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** Value of the sample `series` (name and labels exactly as exposed), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Scrapes until `done` holds for the text (sessions end asynchronously); the last text either way. */
async function scrapeUntil(done: (text: string) => boolean, attempts = 100): Promise<string> {
  let text = await scrape();
  for (let i = 0; i < attempts && !done(text); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    text = await scrape();
  }
  return text;
}

beforeAll(async () => {
  const tokenFile = join(mkdtempSync(join(tmpdir(), 'dbgrelay-metrics-')), 'scrape-token');
  writeFileSync(tokenFile, scrapeToken + '\n', { mode: 0o600 });
  relay = await startE2eRelay({ overrides: { metrics: { enabled: true, host: '127.0.0.1', port: 0, bearerTokenFile: tokenFile } } });
  const address = relay.handle.metricsAddress;
  if (!address) throw new Error('the relay did not start its metrics listener');
  base = address.url;
});
afterAll(async () => {
  for (const attach of attaches) await attach.close();
  for (const debuggee of debuggees) debuggee.kill();
  await relay?.stop();
});

describe('metrics after a session over each transport', () => {
  it.each(['tcps', 'wss'] as const)('runs one debugging session over %s', async (transport) => {
    const name = `metrics-${transport}`;
    const relayUrl = transport === 'wss' ? relay.wssUrl : relay.tcpsUrl;
    const access: ClientAccess = { relayUrl, caFile: relay.caFile, secret: relay.secret };
    debuggees.push(startDebuggee({ relayUrl, name, secret: relay.secret, caFile: relay.caFile }));
    await waitForTargets(access, (targets) => targets.some((t) => t.name === name));
    const attach = await startAttach(access, name);
    attaches.push(attach);
    const before = sample(await scrape(), 'dbgrelay_sessions_total{outcome="ended"}') ?? 0;
    const client = await attachSession(attach.address.port);
    const threads = await client.request<DebugProtocol.ThreadsResponse>('threads', {});
    expect(threads.body.threads.length).toBeGreaterThan(0);
    const during = await scrape();
    expect(sample(during, 'dbgrelay_sessions_active')).toBe(1);
    expect(sample(during, 'dbgrelay_sessions_paused')).toBe(0);
    // A stopped debuggee is counted, with how long it has been stopped, until it runs again.
    const threadId = threads.body.threads[0]!.id;
    await client.request('pause', { threadId });
    await waitForStop(client, 'pause');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const paused = await scrape();
    expect(sample(paused, 'dbgrelay_sessions_paused')).toBe(1);
    expect(sample(paused, 'dbgrelay_session_longest_pause_seconds')).toBeGreaterThanOrEqual(0.2);
    await client.request('continue', { threadId });
    const running = await scrapeUntil((text) => sample(text, 'dbgrelay_sessions_paused') === 0);
    expect(sample(running, 'dbgrelay_session_longest_pause_seconds')).toBe(0);
    await client.request('disconnect', { terminateDebuggee: false });
    await client.close();
    const after = await scrapeUntil((text) => sample(text, 'dbgrelay_sessions_total{outcome="ended"}') === before + 1);
    expect(sample(after, 'dbgrelay_sessions_total{outcome="ended"}')).toBe(before + 1);
  });

  it('shows sessions, bytes, DAP requests, histograms and agents on /metrics', async () => {
    const text = await scrapeUntil((t) => sample(t, 'dbgrelay_sessions_active') === 0);
    expect(sample(text, 'dbgrelay_sessions_total{outcome="ended"}')).toBe(2);
    expect(sample(text, 'dbgrelay_sessions_total{outcome="refused"}')).toBe(0);
    expect(sample(text, 'dbgrelay_sessions_active')).toBe(0);
    expect(sample(text, 'dbgrelay_relayed_bytes_total{direction="client_to_target"}')).toBeGreaterThan(0);
    expect(sample(text, 'dbgrelay_relayed_bytes_total{direction="target_to_client"}')).toBeGreaterThan(0);
    for (const command of ['initialize', 'attach', 'configurationDone', 'threads', 'disconnect']) {
      expect(sample(text, `dbgrelay_dap_requests_total{command="${command}"}`), command).toBe(2);
    }
    expect(sample(text, 'dbgrelay_session_duration_seconds_count')).toBe(2);
    expect(sample(text, 'dbgrelay_session_duration_seconds_sum')).toBeGreaterThan(0);
    expect(sample(text, 'dbgrelay_session_attach_seconds_count')).toBe(2);
    expect(sample(text, 'dbgrelay_session_attach_seconds_bucket{le="+Inf"}')).toBe(2);
    expect(sample(text, 'dbgrelay_agents_connected{transport="wss"}')).toBe(1);
    expect(sample(text, 'dbgrelay_agents_connected{transport="tcps"}')).toBe(1);
    expect(sample(text, 'dbgrelay_targets_registered')).toBe(2);
    expect(sample(text, 'dbgrelay_ssh_connections')).toBe(0);
    expect(sample(text, 'dbgrelay_agent_heartbeat_misses_total')).toBe(0);
    expect(sample(text, 'dbgrelay_auth_failures_total{reason="AUTH_FAILED"}')).toBe(0);
    expect(sample(text, 'dbgrelay_watchdog_resumes_total')).toBe(0);
    // prom-client's process metrics, under their standard names, in the relay's own registry.
    expect(sample(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    // No label carries a target name, principal or address.
    expect(text).not.toMatch(/metrics-(wss|tcps)|relay-secret|127\.0\.0\.1/);
  });

  it('refuses /metrics without the bearer token, and with a wrong one', async () => {
    const none = await fetch(`${base}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(await none.text()).not.toContain('dbgrelay_');
    const wrong = await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${scrapeToken}x` } });
    expect(wrong.status).toBe(401);
    const basic = await fetch(`${base}/metrics`, { headers: { Authorization: `Basic ${Buffer.from(`${scrapeToken}:`).toString('base64')}` } });
    expect(basic.status).toBe(401);
  });

  it('answers /healthz, and /readyz until the relay drains', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/livez`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(relay.handle.ready).toBe(true);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(405);
    relay.handle.setDraining();
    const draining = await fetch(`${base}/readyz`);
    expect(draining.status).toBe(503);
    expect(await draining.text()).toContain('draining');
    expect(relay.handle.ready).toBe(false);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    // the main listener answers the same probes, without a credential (front ends probe it)
    expect(await probeWss('/readyz')).toEqual({ status: 503, body: 'not ready: draining\n' });
    expect(await probeWss('/livez')).toEqual({ status: 200, body: 'ok\n' });
    relay.handle.setDraining(false);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(await probeWss('/readyz')).toEqual({ status: 200, body: 'ready\n' });
    expect(await probeWss('/healthz')).toEqual({ status: 200, body: 'ok\n' });
  });

  it('says which build runs', async () => {
    expect(await scrape()).toContain(`dbgrelay_build_info{version="${packageVersion}"} 1`);
  });

  it('says when each certificate expires, and follows a reload', async () => {
    /** The `use` and `fingerprint` labels and the value of each expiry series. */
    const expiries = (text: string): Array<{ use: string; fingerprint: string; notAfter: number }> =>
      [...text.matchAll(/^dbgrelay_certificate_expiry_timestamp_seconds\{use="([^"]+)",subject="[^"]*",fingerprint="([^"]+)"\} (\d+)$/gm)].map(([, use, fingerprint, value]) => ({
        use: use!,
        fingerprint: fingerprint!,
        notAfter: Number(value),
      }));
    const atStart = expiries(await scrape());
    // The development certificate and the CA that signed it (created by this first start).
    expect(atStart.map(({ use, fingerprint }) => ({ use, fingerprint }))).toEqual([
      { use: 'server', fingerprint: relay.handle.tls.leafFingerprint },
      { use: 'server-chain', fingerprint: relay.handle.tls.caFingerprint },
    ]);
    const caNotAfter = new Date(new X509Certificate(readFileSync(relay.caFile)).validTo).getTime() / 1000;
    expect(atStart[1]!.notAfter).toBe(caNotAfter);
    for (const { notAfter } of atStart) expect(notAfter).toBeGreaterThan(Date.now() / 1000 + 365 * 24 * 3600);

    // A reload that starts trusting a client CA shows it at once.
    const clientCa = createCa('metrics e2e client CA', 30);
    const clientCaFile = join(relay.dataDir, 'client-ca.pem');
    writeFileSync(clientCaFile, clientCa.certPem);
    relay.handle.reload({ ...relay.handle.config, tls: { ...relay.handle.config.tls, clientCaFile } });
    const reloaded = expiries(await scrape());
    expect(reloaded).toHaveLength(3);
    expect(reloaded).toContainEqual({
      use: 'client-ca',
      fingerprint: certificateFingerprint(clientCa.certPem),
      notAfter: new Date(new X509Certificate(clientCa.certPem).validTo).getTime() / 1000,
    });
  });
});
