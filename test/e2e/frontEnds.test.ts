import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDbgrelay } from '../support/processes/cliProcess.js';
import { markerLine, startDebuggee, webAppPath, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { startFrontEnd, type FrontEndKind, type RunningFrontEnd } from '../support/processes/frontEnd.js';
import { startSourceForwarder, type SourceForwarder } from '../support/net/loopbackProxies.js';
import { attachSession, evaluate, waitForStop, waitForTargets } from '../support/relay/relayClient.js';

/**
 * The App Service model with the real front ends of deploy/frontends/: nginx and
 * HAProxy (the example files themselves, placeholders substituted) terminate TLS on
 * loopback in front of the relay's plain-HTTP listener (`listeners.wss.tls: false`,
 * `frontEnd.trustedProxies: [127.0.0.1]`). A real agent connects through the front
 * end, and an engineer debugs with `dbgrelay attach --relay wss://SECRET@host:port/ptvsd`
 * (no target name: the relay's only target). The clients reach the front end through
 * forwarders bound to 127.0.0.2 (client) and 127.0.0.3 (agent), so the address the
 * front end forwards differs from its own (127.0.0.1) and the test can tell which one
 * the relay used in its audit log and logs.
 */
const handleLine = markerLine('HANDLE');
const clientAddress = '127.0.0.2';
const agentAddress = '127.0.0.3';

interface Setup {
  relay: E2eRelay;
  frontEnd: RunningFrontEnd;
  clientSide: SourceForwarder;
  agent: Debuggee;
  target: string;
}

function httpsGet(port: number, path: string, caFile: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca: readFileSync(caFile), headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe.each(['nginx', 'haproxy'] as FrontEndKind[])('the relay behind %s (deploy/frontends example)', (kind) => {
  let setup: Setup | undefined;
  const cleanups: Array<() => unknown> = [];

  beforeAll(async () => {
    const relay = await startE2eRelay({
      overrides: { listeners: { wss: { port: 0, tls: false }, tcps: { port: 0 } }, frontEnd: { trustedProxies: ['127.0.0.1'] } },
    });
    cleanups.unshift(() => relay.stop());
    const frontEnd = await startFrontEnd(kind, relay.handle.wssAddress!.port);
    cleanups.unshift(() => frontEnd.stop());
    const clientSide = await startSourceForwarder(frontEnd.port, clientAddress);
    const agentSide = await startSourceForwarder(frontEnd.port, agentAddress);
    cleanups.unshift(
      () => clientSide.close(),
      () => agentSide.close(),
    );
    const target = `behind-${kind}`;
    const agent = startDebuggee({ relayUrl: `wss://127.0.0.1:${agentSide.port}`, name: target, secret: relay.secret, caFile: frontEnd.caFile });
    cleanups.unshift(() => agent.kill());
    setup = { relay, frontEnd, clientSide, agent, target };
    await waitForTargets({ relayUrl: `wss://127.0.0.1:${clientSide.port}`, caFile: frontEnd.caFile, secret: relay.secret }, (targets) =>
      targets.some((t) => t.name === target && t.transport === 'wss'),
    );
  }, 30_000);

  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('runs on plain HTTP on loopback, and the agent registered from its forwarded address', () => {
    const { relay, target } = setup!;
    expect(relay.handle.wssAddress!.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const registered = jsonLines(relay.logText()).find((line) => line['msg'] === 'agent registered' && line['target'] === target);
    expect(registered?.['remote']).toBe(agentAddress);
  });

  it('shows the /ptvsd info page through the front end, without any secret', async () => {
    const { frontEnd, clientSide, relay, target } = setup!;
    const page = await httpsGet(clientSide.port, '/ptvsd', frontEnd.caFile);
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.body).toContain('The debugging proxy is configured.');
    expect(page.body).toContain(`Default target: ${target} (the only connected target), connected.`);
    expect(page.body).toContain(`wss://&lt;secret&gt;@127.0.0.1:${clientSide.port}/ptvsd`);
    expect(page.body).toContain('&quot;request&quot;: &quot;attach&quot;');
    expect(page.body).not.toContain(relay.secret);
  });

  it('debugs through the front end with dbgrelay attach --relay wss://SECRET@host:port/ptvsd', async () => {
    const { frontEnd, clientSide, relay, target } = setup!;
    const attach = runDbgrelay(['attach', '--relay', `wss://${encodeURIComponent(relay.secret)}@127.0.0.1:${clientSide.port}/ptvsd`, '--ca', frontEnd.caFile, '--port', '0']);
    cleanups.unshift(() => attach.stop());
    const listening = await attach.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
    expect(attach.output()).toContain("the relay's default target (/ptvsd)");
    const client = await attachSession(Number(listening[1]), { breakpoints: { path: webAppPath, lines: [{ line: handleLine }] } });
    try {
      const { event, frame } = await waitForStop(client, 'breakpoint', 20_000);
      expect([frame.name, frame.line]).toEqual(['handle_request', handleLine]);
      expect(Number(await evaluate(client, 'n * 10', frame.id))).toBeGreaterThan(0);
      await client.request('setBreakpoints', { source: { path: webAppPath }, breakpoints: [] });
      await client.request('continue', { threadId: event.body.threadId });
      await client.request('disconnect', { terminateDebuggee: false });
    } finally {
      await client.close();
    }
    await attach.stop();
    expect(attach.output()).not.toContain(relay.secret.slice(0, 12) + '@'); // the CLI never echoes the URL's secret

    const audit = jsonLines(readFileSync(join(relay.dataDir, 'audit.log'), 'utf8'));
    const opened = audit.find((record) => record['event'] === 'session.opened' && record['target'] === target);
    expect(opened?.['client']).toBe(clientAddress);
    const evaluated = audit.find((record) => record['event'] === 'dap.request' && record['command'] === 'evaluate');
    expect(evaluated?.['client']).toBe(clientAddress);
    const started = jsonLines(relay.logText()).find((line) => line['msg'] === 'session started' && line['target'] === target);
    expect(started?.['client']).toBe(clientAddress);
  }, 40_000);

  it('counts a refused credential under the address the front end saw, not a forged X-Forwarded-For', async () => {
    const { frontEnd, clientSide, relay } = setup!;
    const forged = '198.51.100.23';
    const wrong = `Basic ${Buffer.from('not-the-secret:').toString('base64')}`;
    const answer = await httpsGet(clientSide.port, '/v1/targets', frontEnd.caFile, { Authorization: wrong, 'X-Forwarded-For': forged });
    expect(answer.status).toBe(401);
    const refusals = jsonLines(relay.logText()).filter((line) => line['msg'] === 'authentication refused');
    expect(refusals.map((line) => [line['source'], line['remote']])).toEqual([[clientAddress, clientAddress]]);
    expect(refusals[0]?.['proxy']).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(relay.logText()).not.toContain(forged);
  });
});
