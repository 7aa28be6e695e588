import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttachServer, type AttachServer } from '../../src/client/attachServer.js';
import { dialDirectEndpoint, directEndpointTarget } from '../../src/dial/directEndpointDialer.js';
import { parseRelayEndpoint } from '../../src/dial/relayEndpoint.js';
import { caTrust, pinTrust, type TlsTrust } from '../../src/dial/tlsTrust.js';
import { isRelayError } from '../../src/common/relayError.js';
import type { DapTestClient } from '../support/dap/dapTestClient.js';
import { testCertificates, type TestCertificates } from '../support/keys/testCertificates.js';
import { markerLine, startDebuggee, webAppPath, type Debuggee } from '../support/processes/debuggee.js';
import { attachSession, evaluate, listTargets, refusalSeenOnPort, startAttach, waitForStop } from '../support/relay/relayClient.js';
import { runDbgrelay } from '../support/processes/cliProcess.js';
import { startE2eRelay } from '../support/relay/e2eRelay.js';

/**
 * The ptvsd-compatible direct endpoint (agent-py `enable_attach(secret, address,
 * certfile, keyfile)`): a real Python process serves TLS with certificates made here
 * by node-forge; `dbgrelay attach tcps://s3cret@127.0.0.1:PORT` dials it without any
 * relay, and a real DAP client debugs the real debugpy behind it.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const appPath = join(root, 'test', 'fixtures', 'apps', 'ptvsdApp.py');
const handleLine = markerLine('HANDLE', appPath);
const afterBreakLine = markerLine('AFTER_BREAK', appPath);

let certs: TestCertificates;
let app: Debuggee;
let port: number;
const attachCli: ChildProcess[] = [];
const servers: AttachServer[] = [];
const others: Debuggee[] = [];

const endpointUrl = (secret: string, at = port): string => `tcps://${encodeURIComponent(secret)}@127.0.0.1:${at}`;
const caOf = (c: TestCertificates): TlsTrust => caTrust(c.caPem, c.caFile);

async function codeOf(promise: Promise<{ destroy(): void }>): Promise<[string | undefined, string]> {
  try {
    (await promise).destroy();
    return [undefined, ''];
  } catch (error) {
    return isRelayError(error) ? [error.code, error.message] : [`not a RelayError: ${String(error)}`, ''];
  }
}

/** `dbgrelay attach <args>` as a user runs it; resolves with the local port it prints. */
async function runAttachCli(args: string[]): Promise<{ port: number; output: () => string }> {
  const attach = runDbgrelay(['attach', ...args]);
  attachCli.push(attach.child);
  const match = await attach.waitFor(/listening on 127\.0\.0\.1:(\d+);/);
  return { port: Number(match[1]), output: attach.output };
}

beforeAll(async () => {
  certs = testCertificates('ptvsd-direct');
  app = startDebuggee({
    relayUrl: '',
    name: '',
    secret: undefined,
    pythonArgs: [],
    script: appPath,
    scriptArgs: [certs.certFile, certs.keyFile],
    env: { PYDEVD_DISABLE_FILE_VALIDATION: '1' },
  });
  port = Number((await app.waitForOutput(/endpoint 127\.0\.0\.1:\d+/, 20_000)).split(':')[1]);
  await app.waitForOutput(/attached before any client: False/);
}, 60_000);

afterAll(async () => {
  for (const server of servers) await server.close();
  for (const child of attachCli) if (child.exitCode === null) child.kill('SIGKILL');
  app?.kill();
  for (const other of others) other.kill();
});

describe('a direct endpoint from enable_attach("s3cret", address, certfile, keyfile)', () => {
  it('serves a full debug session through `dbgrelay attach tcps://s3cret@127.0.0.1:PORT`, then a reattach', async () => {
    const cli = await runAttachCli([endpointUrl('s3cret'), '--port', '0', '--ca', certs.caFile]);
    expect(cli.output()).toMatch(/direct endpoint tcps:\/\/127\.0\.0\.1:\d+ \(CA file/);
    expect(cli.output()).toMatch(/secret in the endpoint URL is visible to other local users/);
    expect(cli.output()).not.toMatch(/s3cret/);

    let client: DapTestClient = await attachSession(cli.port, { breakpoints: { path: appPath, lines: [{ line: handleLine }] } });
    const { event, frame } = await waitForStop(client, 'breakpoint', 20_000);
    expect([frame.name, frame.line]).toEqual(['handle', handleLine]);
    const scopes = await client.request<DebugProtocol.ScopesResponse>('scopes', { frameId: frame.id });
    const locals = scopes.body.scopes.find((s) => s.name === 'Locals')!;
    const variables = await client.request<DebugProtocol.VariablesResponse>('variables', { variablesReference: locals.variablesReference });
    const n = Number(variables.body.variables.find((v) => v.name === 'n')?.value);
    expect(n).toBeGreaterThan(0);
    expect(await evaluate(client, 'n * 2 + 1', frame.id)).toBe(String(n * 2 + 1));
    await client.request('setBreakpoints', { source: { path: appPath }, breakpoints: [] });
    await client.request('continue', { threadId: event.body.threadId });
    let mark = app.outputLength();
    await app.waitForOutput(/tick \d+ attached=True/, 15_000, mark);
    await client.request('disconnect', { terminateDebuggee: false });
    await client.close();
    mark = app.outputLength();
    await app.waitForOutput(/tick \d+ attached=False/, 15_000, mark); // detached, and the program keeps running

    client = await attachSession(cli.port);
    mark = app.outputLength();
    app.trigger('break');
    const stop = await waitForStop(client, undefined, 20_000);
    expect([stop.frame.name, stop.frame.line]).toEqual(['pause_here', afterBreakLine]); // break_into_debugger()
    expect(Number(await evaluate(client, 'n', stop.frame.id))).toBeGreaterThan(n);
    await client.request('disconnect', { terminateDebuggee: false });
    await client.close();
    await app.waitForOutput(/tick \d+ attached=False/, 15_000, mark);
  }, 60_000);

  it('refuses a wrong secret with AUTH_FAILED, the relay message, and no DAP byte', async () => {
    const [code, message] = await codeOf(dialDirectEndpoint({ endpoint: parseRelayEndpoint(endpointUrl('wrong')), trust: caOf(certs) }));
    expect(code).toBe('AUTH_FAILED');
    expect(message).toBe('debug endpoint refused: credential refused');
    expect((await codeOf(dialDirectEndpoint({ endpoint: parseRelayEndpoint(`tcps://127.0.0.1:${port}`), trust: caOf(certs) })))[0]).toBe('AUTH_REQUIRED');
    expect((await codeOf(dialDirectEndpoint({ endpoint: parseRelayEndpoint(endpointUrl('s3cret')), trust: caOf(certs), target: 'web-1' })))[0]).toBe('UNKNOWN_TARGET');

    // on the wire: exactly the refusal line, then the end of the connection
    const socket = connect({ host: '127.0.0.1', port, ca: certs.caPem, servername: 'localhost' });
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    socket.write(JSON.stringify({ dbgrelay: 1, op: 'attach', target: directEndpointTarget, secret: 'wrong' }) + '\n');
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(Buffer.concat(received).toString('utf8')).toBe('{"ok":false,"error":{"code":"AUTH_FAILED","message":"credential refused"}}\n');

    // and a DAP client of the local port sees the reason as the error of its first request
    const server = await startAttachServer({
      endpoint: parseRelayEndpoint(endpointUrl('wrong')),
      target: directEndpointTarget,
      trust: caOf(certs),
      port: 0,
      dial: dialDirectEndpoint,
    });
    servers.push(server);
    expect(await refusalSeenOnPort(server.address.port)).toMatch(/debug endpoint refused: credential refused \(AUTH_FAILED\)/);
  });

  it('refuses an endpoint whose certificate does not verify: another CA, a pin mismatch', async () => {
    const endpoint = parseRelayEndpoint(endpointUrl('s3cret'));
    const [wrongCa, wrongCaMessage] = await codeOf(dialDirectEndpoint({ endpoint, trust: caOf(testCertificates('ptvsd-other')) }));
    expect(wrongCa).toBe('TLS_VERIFY_FAILED');
    expect(wrongCaMessage).toMatch(/cannot verify the debug endpoint's certificate/);
    const [pinCode, pinMessage] = await codeOf(dialDirectEndpoint({ endpoint, trust: pinTrust(`sha256:${'0'.repeat(64)}`) }));
    expect(pinCode).toBe('TLS_PIN_MISMATCH');
    expect(pinMessage).toContain(certs.leafFingerprint);
    expect((await codeOf(dialDirectEndpoint({ endpoint, trust: pinTrust(certs.leafFingerprint) })))[0]).toBeUndefined();
  });

  it('serves `python -m dbgrelay --secret ... --certfile ... --keyfile ... --port 0 script.py`', async () => {
    const cli = startDebuggee({
      relayUrl: '',
      name: '',
      secret: undefined,
      pythonArgs: ['-m', 'dbgrelay', '--secret', 's3cret-cli', '--certfile', certs.certFile, '--keyfile', certs.keyFile, '--host', '127.0.0.1', '--port', '0'],
      env: { PYDEVD_DISABLE_FILE_VALIDATION: '1' },
    });
    others.push(cli);
    const listening = await cli.waitForOutput(/debug endpoint listening on 127\.0\.0\.1:\d+/, 20_000);
    expect(cli.output()).toMatch(/--secret is visible to other local users/);
    const cliPort = Number(listening.split(':').pop());
    const server = await startAttachServer({
      endpoint: parseRelayEndpoint(endpointUrl('s3cret-cli', cliPort)),
      target: directEndpointTarget,
      trust: pinTrust(certs.leafFingerprint),
      port: 0,
      dial: dialDirectEndpoint,
    });
    servers.push(server);
    const webHandle = markerLine('HANDLE');
    const client = await attachSession(server.address.port, { breakpoints: { path: webAppPath, lines: [{ line: webHandle }] } });
    const { frame } = await waitForStop(client, 'breakpoint', 20_000);
    expect([frame.name, frame.line]).toEqual(['handle_request', webHandle]);
    expect(Number(await evaluate(client, 'n', frame.id))).toBeGreaterThan(0);
    await client.request('disconnect', { terminateDebuggee: false });
    await client.close();
    const mark = cli.outputLength();
    await cli.waitForOutput(/tick \d+/, 15_000, mark);
    expect(cli.output()).not.toContain('s3cret-cli');
  }, 60_000);

  it('is a configured tcps:// target of the relay (secret from a file, endpoint certificate checked against its CA)', async () => {
    const secretDir = mkdtempSync(join(tmpdir(), 'ptvsd-target-'));
    const secretFile = join(secretDir, 'secret');
    writeFileSync(secretFile, 's3cret\n', { mode: 0o600 });
    const relay = await startE2eRelay({
      overrides: {
        targets: {
          legacy: { url: `tcps://127.0.0.1:${port}`, secretFile, caFile: certs.caFile },
          'legacy-bad': { url: `tcps://127.0.0.1:${port}`, secretEnv: 'DBGRELAY_TEST_NO_SUCH_SECRET_VAR_SET', caFile: certs.caFile },
        },
      },
    }).catch((error: unknown) => error as Error);
    // a secretEnv that is not set is a config error naming the key
    expect(relay).toBeInstanceOf(Error);
    expect((relay as Error).message).toMatch(/targets\.legacy-bad\.secretEnv: environment variable DBGRELAY_TEST_NO_SUCH_SECRET_VAR_SET is not set/);

    const good = await startE2eRelay({ overrides: { targets: { legacy: { url: `tcps://127.0.0.1:${port}`, secretFile, caFile: certs.caFile } } } });
    try {
      const access = { relayUrl: good.tcpsUrl, caFile: good.caFile, secret: good.secret };
      const listed = (await listTargets(access)).find((t) => t.name === 'legacy');
      expect(listed).toMatchObject({ kind: 'direct', transport: 'tcps', address: `tcps://127.0.0.1:${port}` });
      expect(JSON.stringify(listed)).not.toContain('s3cret');
      const attach = await startAttach(access, 'legacy');
      servers.push(attach);
      const client = await attachSession(attach.address.port, { breakpoints: { path: appPath, lines: [{ line: handleLine }] } });
      const { frame } = await waitForStop(client, 'breakpoint', 20_000);
      expect(Number(await evaluate(client, 'n', frame.id))).toBeGreaterThan(0);
      await client.request('setBreakpoints', { source: { path: appPath }, breakpoints: [] });
      await client.request('disconnect', { terminateDebuggee: false });
      await client.close();
      const mark = app.outputLength();
      await app.waitForOutput(/tick \d+ attached=False/, 15_000, mark);
      expect((await listTargets(access)).find((t) => t.name === 'legacy')).toMatchObject({ reachable: true });
    } finally {
      await good.stop();
    }
  }, 60_000);
});
