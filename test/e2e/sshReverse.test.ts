import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TargetInfo } from '../../src/protocol/controlMessages.js';
import { markerLine, webAppPath } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { startListeningDebuggee, type ListeningDebuggee } from '../support/processes/listeningDebuggee.js';
import { attachSession, evaluate, listTargets, startAttach, waitForStop, waitForTargets, type ClientAccess } from '../support/relay/relayClient.js';
import { fingerprintOf, knownHostsFile, makeClientKey, runSsh, type ClientKey, type SshClientProcess } from '../support/processes/sshReverseClient.js';

/**
 * The relay's built-in SSH server (sshServer.*): a host with only OpenSSH and a
 * plain debugpy registers a target with the real `ssh -N -R web-1:0:127.0.0.1:PORT`,
 * verifying the relay's host key; engineers attach through `dbgrelay attach` as to
 * any target.
 */
const localRoot = '/local/project';
const attachArguments = { pathMappings: [{ localRoot, remoteRoot: dirname(webAppPath) }] };
const appSource = `${localRoot}/webApp.py`;

let relay: E2eRelay;
let debuggee: ListeningDebuggee;
let sshPort: number;
let knownHosts: string;
const keys: Record<'web' | 'fleet' | 'api' | 'stranger', ClientKey> = {} as never;
const clients: SshClientProcess[] = [];
/** The forward of the main scenario, killed by the last test. */
let webForward: SshClientProcess | undefined;

beforeAll(async () => {
  if (!existsSync('/usr/bin/ssh')) throw new Error('/usr/bin/ssh (the OpenSSH client) is required for this test and is not installed');
  keys.web = makeClientKey('web-host');
  // Every supported key type signs with the real ssh: RSA (rsa-sha2-512), ECDSA, Ed25519.
  keys.fleet = makeClientKey('fleet', 'rsa');
  keys.api = makeClientKey('api-host', 'ecdsa');
  keys.stranger = makeClientKey('stranger');
  const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-sshserver-'));
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(
    authorizedKeys,
    [
      '# hosts that may register targets with ssh -R',
      `dbgrelay-targets="web-1" ${keys.web.publicLine}`,
      `restrict,dbgrelay-targets="web-*,side" ${keys.fleet.publicLine}`,
      `dbgrelay-targets="api-*" ${keys.api.publicLine}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  debuggee = await startListeningDebuggee();
  relay = await startE2eRelay({
    overrides: {
      sshServer: { enabled: true, host: '127.0.0.1', port: 0, authorizedKeysFile: authorizedKeys, keepaliveIntervalMs: 1_000, keepaliveCountMax: 3, authTimeoutMs: 3_000 },
      targets: { side: { url: `tcp://127.0.0.1:${debuggee.port}` } },
    },
  });
  sshPort = relay.handle.sshAddress!.port;
  // Pin the relay's host key the way an operator would: the fingerprint it reports
  // must be that of the public key beside the generated key file.
  const publicKeyFile = join(relay.dataDir, 'ssh_host_ed25519_key.pub');
  expect(fingerprintOf(publicKeyFile)).toBe(relay.handle.sshHostKeyFingerprint);
  knownHosts = knownHostsFile(sshPort, readFileSync(publicKeyFile, 'utf8').trim().split(' ').slice(0, 2).join(' '));
});
afterAll(async () => {
  for (const client of clients) client.kill();
  await relay?.stop();
  debuggee?.kill();
});

const access = (): ClientAccess => ({ relayUrl: relay.tcpsUrl, caFile: relay.caFile, secret: relay.secret });

function forward(key: ClientKey, spec: string, options: { knownHosts?: string } = {}): SshClientProcess {
  const client = runSsh({ port: sshPort, key, knownHosts: options.knownHosts ?? knownHosts, args: ['-N', '-o', 'ServerAliveInterval=1', '-R', spec] });
  clients.push(client);
  return client;
}

const byName = (targets: TargetInfo[], name: string): TargetInfo | undefined => targets.find((target) => target.name === name);

/** The relay's `ssh connection` log lines (one per SSH connection). */
function connectionLines(): Array<Record<string, unknown>> {
  return relay
    .logText()
    .split('\n')
    .filter((line) => line.includes('"ssh connection"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Polls `check` until it holds (at most 15 s, then fails naming `what`). */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  await vi.waitFor(
    async () => {
      if (!(await check())) throw new Error(`never happened: ${what}`);
    },
    { timeout: 15_000, interval: 50 },
  );
}

/** Waits until ssh exited and returns its exit code; a still-running client fails the test. */
async function exitOf(client: SshClientProcess): Promise<number | string> {
  const code = await Promise.race([client.exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 15_000))]);
  if (code === 'running') throw new Error(`ssh did not exit; stderr: ${client.stderr()}`);
  return code;
}

describe('ssh -R targets', () => {
  it('an ssh client that cannot verify the relay host key gives up before authenticating', async () => {
    const other = makeClientKey('not-the-relay');
    const client = forward(keys.web, `web-1:0:127.0.0.1:${debuggee.port}`, { knownHosts: knownHostsFile(sshPort, other.publicLine.split(' ').slice(0, 2).join(' ')) });
    expect(await exitOf(client)).toBe(255);
    expect(client.stderr()).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    expect(byName(await listTargets(access()), 'web-1')).toBeUndefined();
  });

  it('registers web-1, gives a full debugging session, and the program keeps running between sessions', async () => {
    const ssh = (webForward = forward(keys.web, `web-1:0:127.0.0.1:${debuggee.port}`));
    const targets = await waitForTargets(access(), (list) => byName(list, 'web-1') !== undefined);
    expect(byName(targets, 'web-1')).toMatchObject({
      kind: 'ssh-reverse',
      transport: 'ssh',
      host: '127.0.0.1',
      address: `ssh -R from 127.0.0.1 (key ${keys.web.fingerprint})`,
      sessions: 0,
    });
    expect(await relay.handle.metrics.valueOf('dbgrelay_ssh_connections')).toBe(1);

    const attach = await startAttach(access(), 'web-1');
    try {
      const client = await attachSession(attach.address.port, { attachArguments, breakpoints: { path: appSource, lines: [{ line: markerLine('HANDLE') }] } });
      const { event, frame } = await waitForStop(client, 'breakpoint');
      expect(frame).toMatchObject({ line: markerLine('HANDLE'), source: { path: appSource } });
      const scopes = await client.request<DebugProtocol.ScopesResponse>('scopes', { frameId: frame.id });
      const locals = await client.request<DebugProtocol.VariablesResponse>('variables', { variablesReference: scopes.body.scopes[0]!.variablesReference });
      const n = Number(locals.body.variables.find((variable) => variable.name === 'n')?.value);
      expect(n).toBeGreaterThan(0);
      expect(await evaluate(client, 'n * 2', frame.id)).toBe(String(n * 2));
      await client.request('next', { threadId: event.body.threadId });
      const stepped = await waitForStop(client, 'step');
      expect(stepped.frame.line).toBe(markerLine('HANDLE') + 1);
      expect(await evaluate(client, 'total', stepped.frame.id)).toBe(String(n * 2));
      await client.request('setBreakpoints', { source: { path: appSource }, breakpoints: [] });
      await client.request('continue', { threadId: event.body.threadId });
      await client.request('disconnect', { terminateDebuggee: false });
      await client.close();
      const from = debuggee.output().length;
      await debuggee.waitForOutput(/tick \d+/, from);

      // Reattach through the same forward: debugpy's adapter serves the next session.
      const again = await attachSession(attach.address.port, { attachArguments, breakpoints: { path: appSource, lines: [{ line: markerLine('HANDLE') }] } });
      const second = await waitForStop(again, 'breakpoint');
      expect(Number(await evaluate(again, 'n', second.frame.id))).toBeGreaterThan(n);
      await again.request('disconnect', { terminateDebuggee: false });
      await again.close();
      const later = debuggee.output().length;
      await debuggee.waitForOutput(/tick \d+/, later);
    } finally {
      await attach.close();
    }
    expect(byName(await listTargets(access()), 'web-1')).toMatchObject({ reachable: true });
    expect(ssh.process.exitCode).toBeNull();
  });

  it('refuses a key that is not authorized: ssh exits, nothing is registered, one log line names the key', async () => {
    const client = forward(keys.stranger, `web-9:0:127.0.0.1:${debuggee.port}`);
    expect(await exitOf(client)).toBe(255);
    expect(client.stderr()).toMatch(/Permission denied \(publickey\)/);
    expect(byName(await listTargets(access()), 'web-9')).toBeUndefined();
    const line = connectionLines().find((entry) => (entry['offeredKeys'] as string[] | undefined)?.includes(keys.stranger.fingerprint));
    expect(line).toMatchObject({ outcome: 'auth-failed', user: 'root', targets: [] });
    expect(relay.logText()).not.toContain(keys.stranger.publicLine.split(' ')[1]);
  });

  it('refuses names the key may not register, a live name held by another key, and a configured target name', async () => {
    const cases: Array<[ClientKey, string, RegExp]> = [
      [keys.api, 'web-2', /this key may register only api-\*/],
      [keys.fleet, 'web-1', /held by an ssh -R connection with another key/],
      [keys.fleet, 'side', /TARGET_NAME_IN_USE|already provided/],
      [keys.fleet, 'localhost', /bind address names the target/],
    ];
    for (const [key, name, reason] of cases) {
      const client = forward(key, `${name}:0:127.0.0.1:${debuggee.port}`);
      expect(await exitOf(client), name).not.toBe(0);
      expect(client.stderr(), name).toMatch(/remote port forwarding failed/);
      const refusal = relay
        .logText()
        .split('\n')
        .filter((line) => line.includes('"remote forward refused"'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((entry) => entry['target'] === name && entry['key'] === key.fingerprint);
      expect(refusal?.['reason'], name).toMatch(reason);
    }
    const targets = await listTargets(access());
    expect(byName(targets, 'web-2')).toBeUndefined();
    expect(byName(targets, 'web-1')?.address).toContain(keys.web.fingerprint);
    expect(byName(targets, 'side')?.kind).toBe('tcp');
  });

  it('closes a connection that does not authenticate within sshServer.authTimeoutMs', async () => {
    const socket = connect({ host: '127.0.0.1', port: sshPort });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    socket.write('SSH-2.0-OpenSSH_9.2 dbgrelay-test\r\n');
    const local = await new Promise<number>((resolve) => socket.once('connect', () => resolve(socket.localPort!)));
    await closed;
    await until(() => connectionLines().some((entry) => entry['remote'] === `127.0.0.1:${local}`), 'the log line of the idle connection');
    expect(connectionLines().find((entry) => entry['remote'] === `127.0.0.1:${local}`)).toMatchObject({ outcome: 'auth-timeout', targets: [] });
  });

  it('removes the target when the client cancels the forward (ssh -O cancel through a control socket)', async () => {
    const socketPath = join(mkdtempSync(join(tmpdir(), 'dbgrelay-mux-')), 'mux');
    const spec = `api-7:7000:127.0.0.1:${debuggee.port}`;
    const master = runSsh({ port: sshPort, key: keys.api, knownHosts, args: ['-N', '-M', '-S', socketPath, '-R', spec] });
    clients.push(master);
    await waitForTargets(access(), (list) => byName(list, 'api-7')?.kind === 'ssh-reverse');
    const cancel = runSsh({ port: sshPort, key: keys.api, knownHosts, args: ['-S', socketPath, '-O', 'cancel', '-R', spec] });
    expect(await exitOf(cancel), cancel.stderr()).toBe(0);
    await waitForTargets(access(), (list) => byName(list, 'api-7') === undefined);
    expect(relay.logText()).toMatch(/"target":"api-7".*"removed":true,"msg":"target removed \(forward cancelled\)"/);
    expect(master.process.exitCode).toBeNull();
    master.kill();
  });

  it('answers a shell or command with a polite refusal and runs nothing', async () => {
    const client = runSsh({ port: sshPort, key: keys.api, knownHosts, args: [], command: ['id'] });
    clients.push(client);
    expect(await exitOf(client)).toBe(1);
    expect(client.stderr()).toMatch(/only accepts remote forwards/);
  });

  it('drops the target when the ssh client dies; the same key re-registers it and takes over from a stale connection', async () => {
    if (!webForward) throw new Error('the main scenario did not start its ssh -R client');
    expect(byName(await listTargets(access()), 'web-1')).toBeDefined();
    webForward.kill();
    await waitForTargets(access(), (list) => byName(list, 'web-1') === undefined);
    await until(async () => (await relay.handle.metrics.valueOf('dbgrelay_ssh_connections')) === 0, 'dbgrelay_ssh_connections back to 0');

    const reconnected = forward(keys.web, `web-1:5678:127.0.0.1:${debuggee.port}`);
    const listed = byName(await waitForTargets(access(), (list) => byName(list, 'web-1') !== undefined), 'web-1')!;
    // A second connection with the same key while the first still looks alive takes the name over.
    const newer = forward(keys.web, `web-1:0:127.0.0.1:${debuggee.port}`);
    const replaced = byName(await waitForTargets(access(), (list) => (byName(list, 'web-1')?.connectedAt ?? '') > listed.connectedAt), 'web-1')!;
    expect(replaced.address).toContain(keys.web.fingerprint);
    reconnected.kill();
    await exitOf(reconnected);
    await until(() => connectionLines().filter((entry) => entry['key'] === keys.web.fingerprint).length === 2, 'the log line of the reconnected client');

    // The target is still there, served by the newer connection.
    const attach = await startAttach(access(), 'web-1');
    try {
      const client = await attachSession(attach.address.port, { attachArguments, breakpoints: { path: appSource, lines: [{ line: markerLine('HANDLE') }] } });
      const { frame } = await waitForStop(client, 'breakpoint');
      expect(Number(await evaluate(client, 'n', frame.id))).toBeGreaterThan(0);
      await client.request('disconnect', { terminateDebuggee: false });
      await client.close();
    } finally {
      await attach.close();
    }
    expect(newer.process.exitCode).toBeNull();
    newer.kill();
    await waitForTargets(access(), (list) => byName(list, 'web-1') === undefined);
    await until(() => connectionLines().filter((entry) => entry['key'] === keys.web.fingerprint).length === 3, 'one log line per web-host connection');
    const closed = connectionLines().filter((entry) => entry['key'] === keys.web.fingerprint);
    for (const entry of closed) expect(entry).toMatchObject({ outcome: 'closed', keyComment: 'web-host', user: 'root' });
  });
});
