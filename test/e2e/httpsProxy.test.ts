import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDbgrelay } from '../support/processes/cliProcess.js';
import { markerLine, startDebuggee, webAppPath, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { freePort, startConnectProxy, type ConnectProxy } from '../support/net/loopbackProxies.js';
import { attachSession, evaluate, waitForStop, waitForTargets } from '../support/relay/relayClient.js';

/**
 * `HTTPS_PROXY`/`NO_PROXY` with a real relay, real agents and real debugpy: a CONNECT
 * proxy on loopback (test support, a few lines of node:net) that wants Basic
 * credentials and records every CONNECT. Two agents reach the relay through it (wss,
 * and tcps with a fingerprint pin, whose probe goes through it too); `dbgrelay
 * targets` and `dbgrelay attach` (real processes) go through it, and a DAP session runs
 * through it. A `NO_PROXY` that names the relay bypasses the proxy, for the agent and
 * the client alike, even when `HTTPS_PROXY` points at a port where nothing listens.
 */
const proxyUser = 'relay-user';
const proxyPassword = 'pr0xy pa$$:word';
const proxyAuthorization = `Basic ${Buffer.from(`${proxyUser}:${proxyPassword}`).toString('base64')}`;
const handleLine = markerLine('HANDLE');

let relay: E2eRelay;
let proxy: ConnectProxy;
let deadProxyUrl: string;
const agents: Debuggee[] = [];

/** Environment that sends connections to the relay through `url` unless `noProxy` matches. */
function proxyEnv(url: string, noProxy = ''): Record<string, string> {
  return { https_proxy: url, HTTPS_PROXY: url, no_proxy: noProxy, NO_PROXY: noProxy };
}

const hostPort = (url: string): string => url.replace(/^[a-z]+:\/\//, '');

beforeAll(async () => {
  relay = await startE2eRelay();
  proxy = await startConnectProxy({ requireAuthorization: proxyAuthorization });
  deadProxyUrl = `http://127.0.0.1:${await freePort()}`; // nothing listens: any use of it fails
  const proxyUrl = `http://${encodeURIComponent(proxyUser)}:${encodeURIComponent(proxyPassword)}@127.0.0.1:${proxy.port}`;
  agents.push(
    startDebuggee({ relayUrl: relay.wssUrl, name: 'proxied-wss', secret: relay.secret, caFile: relay.caFile, env: proxyEnv(proxyUrl) }),
    startDebuggee({
      relayUrl: relay.tcpsUrl,
      name: 'proxied-tcps',
      secret: relay.secret,
      extraArgs: ['--fingerprint', relay.handle.tls.caFingerprint],
      env: proxyEnv(proxyUrl),
    }),
    startDebuggee({ relayUrl: relay.wssUrl, name: 'direct-wss', secret: relay.secret, caFile: relay.caFile, env: proxyEnv(deadProxyUrl, 'localhost, 127.0.0.1') }),
  );
  const admin = { relayUrl: relay.wssUrl, caFile: relay.caFile, secret: relay.secret };
  await waitForTargets(admin, (targets) => ['proxied-wss', 'proxied-tcps', 'direct-wss'].every((name) => targets.some((t) => t.name === name)));
}, 30_000);

afterAll(async () => {
  for (const agent of agents) agent.kill();
  await proxy?.close();
  await relay?.stop();
});

describe('HTTPS_PROXY and NO_PROXY', () => {
  it('agents reach the relay through the proxy (wss, tcps and the pin probe), with its credentials, never logged', () => {
    expect(new Set(proxy.targets)).toEqual(new Set([hostPort(relay.wssUrl), hostPort(relay.tcpsUrl)]));
    // control and data connections of the wss agent, control and pin probe of the tcps agent
    expect(proxy.targets.filter((t) => t === hostPort(relay.tcpsUrl)).length).toBeGreaterThanOrEqual(2);
    expect(proxy.authorizations.every((value) => value === proxyAuthorization)).toBe(true);
    for (const agent of agents.slice(0, 2)) {
      const log = readFileSync(agent.agentLogFile, 'utf8') + agent.output();
      expect(log).toContain(`through the proxy http://127.0.0.1:${proxy.port}`);
      expect(log).not.toContain(proxyPassword);
      expect(log).not.toContain(encodeURIComponent(proxyPassword));
    }
  });

  it('dbgrelay attach debugs a proxied agent through the proxy (tcps)', async () => {
    const before = proxy.targets.length;
    const proxyUrl = `http://${encodeURIComponent(proxyUser)}:${encodeURIComponent(proxyPassword)}@127.0.0.1:${proxy.port}`;
    const attach = runDbgrelay(['attach', 'proxied-wss', '--relay', relay.tcpsUrl, '--ca', relay.caFile, '--port', '0'], {
      DBGRELAY_SECRET: relay.secret,
      ...proxyEnv(proxyUrl),
    });
    try {
      const listening = await attach.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
      expect(attach.output()).toContain(`reaching the relay through the proxy http://127.0.0.1:${proxy.port} (https_proxy`);
      const client = await attachSession(Number(listening[1]), { breakpoints: { path: webAppPath, lines: [{ line: handleLine }] } });
      try {
        const { event, frame } = await waitForStop(client, 'breakpoint', 20_000);
        expect(frame.line).toBe(handleLine);
        expect(Number(await evaluate(client, 'n + 1', frame.id))).toBeGreaterThan(1);
        await client.request('setBreakpoints', { source: { path: webAppPath }, breakpoints: [] });
        await client.request('continue', { threadId: event.body.threadId });
        await client.request('disconnect', { terminateDebuggee: false });
      } finally {
        await client.close();
      }
    } finally {
      await attach.stop();
    }
    // the client's look-up of the target's root, its session, and the agent's data connection for it went through the proxy
    expect(proxy.targets.slice(before).filter((t) => t === hostPort(relay.tcpsUrl))).toHaveLength(2);
    expect(proxy.targets.slice(before).filter((t) => t === hostPort(relay.wssUrl))).toHaveLength(1);
    expect(attach.output()).not.toContain(proxyPassword);
  }, 40_000);

  it('dbgrelay targets goes through the proxy over wss, and reports a proxy that refuses its credentials', async () => {
    const before = proxy.targets.length;
    const good = `http://${encodeURIComponent(proxyUser)}:${encodeURIComponent(proxyPassword)}@127.0.0.1:${proxy.port}`;
    const listed = runDbgrelay(['targets', '--relay', relay.wssUrl, '--ca', relay.caFile], { DBGRELAY_SECRET: relay.secret, ...proxyEnv(good) });
    expect(await listed.exited, listed.output()).toBe(0);
    expect(listed.output()).toMatch(/proxied-tcps[\s\S]*tcps/);
    expect(proxy.targets.slice(before)).toEqual([hostPort(relay.wssUrl)]);

    const refused = runDbgrelay(['targets', '--relay', relay.wssUrl, '--ca', relay.caFile], {
      DBGRELAY_SECRET: relay.secret,
      ...proxyEnv(`http://${proxyUser}:wrong-password@127.0.0.1:${proxy.port}`),
    });
    expect(await refused.exited, refused.output()).toBe(69); // RELAY_UNREACHABLE: unreachable (docs/operations.md "Exit status")
    expect(refused.output()).toContain(`the proxy http://127.0.0.1:${proxy.port} (https_proxy) refused CONNECT ${hostPort(relay.wssUrl)}: HTTP/1.1 407`);
    expect(refused.output()).toContain('RELAY_UNREACHABLE');
    expect(refused.output()).not.toContain('wrong-password');
  }, 30_000);

  it('NO_PROXY naming the relay bypasses the proxy, for the agent and the client', async () => {
    // direct-wss registered although its HTTPS_PROXY points where nothing listens
    const listed = runDbgrelay(['targets', '--relay', relay.wssUrl, '--ca', relay.caFile, '--json'], {
      DBGRELAY_SECRET: relay.secret,
      ...proxyEnv(deadProxyUrl, `.example.com,127.0.0.1:${hostPort(relay.wssUrl).split(':')[1]}`),
    });
    expect(await listed.exited, listed.output()).toBe(0);
    expect((JSON.parse(listed.output().slice(listed.output().indexOf('['))) as Array<{ name: string }>).map((t) => t.name)).toContain('direct-wss');
    expect(listed.output()).not.toContain('through the proxy');
  }, 20_000);
});
