import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttachServer, type AttachServer } from '../../src/client/attachServer.js';
import { dialSession } from '../../src/dial/relayDialer.js';
import { resolveClientConnection } from '../../src/cli/clientOptions.js';
import { isRelayError } from '../../src/common/relayError.js';
import type { DapTestClient } from '../support/dap/dapTestClient.js';
import { markerLine, startDebuggee, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { attachSession, evaluate, waitForStop, waitForTargets } from '../support/relay/relayClient.js';

/**
 * Per-target attach secrets (ptvsd model, docs/protocol.md §2.2) with a real relay,
 * real agents and real debugpy. Two agents authenticate with the relay secret in the
 * `SECRET@` form of their relay URL (one tcps, one wss) and each sets its own attach
 * secret (one from --secret-file, one from DBGRELAY_SECRET). Engineers attach with
 * `tcps://<attach secret>@host:port` and `wss://<attach secret>@host:port`.
 */
const attachTcps = `attach-tcps-${randomBytes(12).toString('base64url')}`;
const attachWss = `attach-wss-${randomBytes(12).toString('base64url')}`;
const handleLine = markerLine('HANDLE');

let relay: E2eRelay;
let tcpsAgent: Debuggee;
let wssAgent: Debuggee;
const servers: AttachServer[] = [];
const clients: DapTestClient[] = [];
const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-attach-secret-'));

const hostPort = (url: string): string => url.replace(/^[a-z]+:\/\//, '');
/** `scheme://<secret>@127.0.0.1:port` for one of the relay's listeners. */
const withSecret = (url: string, secret: string): string => `${url.split('://')[0]}://${encodeURIComponent(secret)}@${hostPort(url)}`;

/** What `dbgrelay attach --relay <url> --ca <ca>` resolves, with no secret in the environment. */
function clientFor(url: string) {
  const connection = resolveClientConnection({ relay: url, ca: relay.caFile }, { DBGRELAY_DATA_DIR: join(dir, 'none') });
  expect(connection.notes.join('\n')).toMatch(/visible to other local users/);
  return connection;
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    const transport = (await promise) as { destroy?: () => void };
    transport.destroy?.();
  } catch (error) {
    return isRelayError(error) ? error.code : `not a RelayError: ${String(error)}`;
  }
  return undefined;
}

beforeAll(async () => {
  relay = await startE2eRelay();
  const attachFile = join(dir, 'attach-secret');
  writeFileSync(attachFile, attachTcps + '\n', { mode: 0o600 });
  tcpsAgent = startDebuggee({
    relayUrl: withSecret(relay.tcpsUrl, relay.secret),
    name: 'app-tcps',
    secret: undefined,
    caFile: relay.caFile,
    extraArgs: ['--secret-file', attachFile],
    env: { DBGRELAY_AGENT_LOG_LEVEL: 'DEBUG' }, // the most verbose logs must hold no secret either
  });
  wssAgent = startDebuggee({
    relayUrl: withSecret(relay.wssUrl, relay.secret),
    name: 'app-wss',
    secret: attachWss,
    caFile: relay.caFile,
    env: { DBGRELAY_AGENT_LOG_LEVEL: 'DEBUG' },
  });
  const admin = { relayUrl: relay.tcpsUrl, caFile: relay.caFile, secret: relay.secret };
  await waitForTargets(admin, (targets) => ['app-tcps', 'app-wss'].every((name) => targets.some((t) => t.name === name)));
}, 60_000);

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  for (const server of servers) await server.close();
  tcpsAgent?.kill();
  wssAgent?.kill();
  await relay?.stop();
});

describe('agents with their own attach secret', () => {
  it('registered with the relay secret from tcps://SECRET@ and wss://SECRET@ URLs, transport as given', async () => {
    const admin = { relayUrl: relay.wssUrl, caFile: relay.caFile, secret: relay.secret };
    const targets = await waitForTargets(admin, (t) => t.length >= 2);
    expect(Object.fromEntries(targets.map((t) => [t.name, t.transport]))).toMatchObject({ 'app-tcps': 'tcps', 'app-wss': 'wss' });
    expect(tcpsAgent.output()).toMatch(/visible to other local users/);
  });

  it.each([
    ['tcps', 'app-tcps', () => attachTcps],
    ['wss', 'app-wss', () => attachWss],
  ] as const)(
    'let a client attach with %s://<attach secret>@host:port and debug',
    async (scheme, target, secret) => {
      const connection = clientFor(withSecret(scheme === 'tcps' ? relay.tcpsUrl : relay.wssUrl, secret()));
      expect(connection.secret).toBe(secret());
      expect(connection.endpoint.display).not.toContain(secret());
      const server = await startAttachServer({ endpoint: connection.endpoint, trust: connection.trust, secret: connection.secret!, target, port: 0 });
      servers.push(server);
      const client = await attachSession(server.address.port, { breakpoints: { path: join(process.cwd(), 'test/fixtures/apps/webApp.py'), lines: [{ line: handleLine }] } });
      clients.push(client);
      const { frame } = await waitForStop(client, 'breakpoint', 20_000);
      expect([frame.name, frame.line]).toEqual(['handle_request', handleLine]);
      expect(Number(await evaluate(client, 'n', frame.id))).toBeGreaterThan(0);
      await client.request('disconnect', { terminateDebuggee: false });
      await client.close();
    },
    60_000,
  );

  it("refuses a target's attach secret for another target, with AUTH_FAILED", async () => {
    for (const [url, secret, target] of [
      [relay.tcpsUrl, attachTcps, 'app-wss'],
      [relay.wssUrl, attachTcps, 'app-wss'],
      [relay.tcpsUrl, attachWss, 'app-tcps'],
      [relay.wssUrl, attachWss, 'app-tcps'],
    ] as const) {
      const connection = clientFor(withSecret(url, secret));
      expect(await codeOf(dialSession({ endpoint: connection.endpoint, trust: connection.trust, secret: connection.secret!, target }))).toBe('AUTH_FAILED');
    }
    // and it lists no targets
    const connection = clientFor(withSecret(relay.wssUrl, attachTcps));
    const { fetchTargets } = await import('../../src/dial/relayTargetList.js');
    expect(await codeOf(fetchTargets({ endpoint: connection.endpoint, trust: connection.trust, secret: connection.secret! }))).toBe('AUTH_FAILED');
  });

  it('refuses a wrong attach secret before any DAP byte, without asking the agent to open a session', async () => {
    const sessionsBefore = (tcpsAgent.output().match(/data connection open/g) ?? []).length;
    const logBefore = relay.logText().length;
    const wrong = `${attachTcps}-wrong`;
    const socket = connect({ host: '127.0.0.1', port: relay.handle.tcpsAddress!.port, ca: readFileSync(relay.caFile, 'utf8'), servername: 'localhost' });
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    socket.write(JSON.stringify({ dbgrelay: 1, op: 'attach', target: 'app-tcps', secret: wrong }) + '\n');
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const text = Buffer.concat(received).toString('utf8');
    expect(text).toBe('{"ok":false,"error":{"code":"AUTH_FAILED","message":"credential refused"}}\n');
    expect(text).not.toContain('Content-Length');
    const wss = clientFor(withSecret(relay.wssUrl, wrong));
    expect(await codeOf(dialSession({ endpoint: wss.endpoint, trust: wss.trust, secret: wss.secret!, target: 'app-wss' }))).toBe('AUTH_FAILED');
    const newLog = relay.logText().slice(logBefore);
    expect(newLog).toMatch(/authentication refused/);
    expect(newLog).not.toMatch(/session started|"msg":"session refused"/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((tcpsAgent.output().match(/data connection open/g) ?? []).length).toBe(sessionsBefore);
  });

  it('writes no secret to the relay log, the agent logs or the programs’ output', () => {
    const texts = {
      relay: relay.logText(),
      tcpsAgentLog: readFileSync(tcpsAgent.agentLogFile, 'utf8'),
      wssAgentLog: readFileSync(wssAgent.agentLogFile, 'utf8'),
      tcpsAgentOutput: tcpsAgent.output(),
      wssAgentOutput: wssAgent.output(),
    };
    expect(texts.relay).toMatch(/session started/);
    expect(texts.tcpsAgentLog).toMatch(/registered target 'app-tcps'/);
    for (const [where, text] of Object.entries(texts)) {
      for (const secret of [relay.secret, attachTcps, attachWss, encodeURIComponent(relay.secret)]) {
        expect(text.includes(secret), `${where} contains a secret`).toBe(false);
      }
    }
  });
});
