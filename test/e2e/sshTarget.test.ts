import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DapTestClient } from '../support/dap/dapTestClient.js';
import { markerLine, webAppPath } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { startListeningDebuggee, type ListeningDebuggee } from '../support/processes/listeningDebuggee.js';
import { attachSession, evaluate, listTargets, refusalSeenOnPort, startAttach, waitForStop, type ClientAccess } from '../support/relay/relayClient.js';
import { makeKey, startSshAgent, startSshd, type TestKey, type TestSshAgent, type TestSshd } from '../support/processes/sshd.js';

/**
 * SSH targets (`targets.<name>.url: ssh://user@host:port`): the relay reaches a plain
 * debugpy on the host's loopback over a `direct-tcpip` channel of its own SSH
 * connection. A real OpenSSH sshd (and a second one as jump host) on 127.0.0.1, real
 * debugpy, a real DAP client through `dbgrelay attach`.
 */
const localRoot = '/local/project';
const attachArguments = { pathMappings: [{ localRoot, remoteRoot: dirname(webAppPath) }] };
const appPath = `${localRoot}/webApp.py`;
const user = execFileSync('id', ['-un']).toString().trim();

let dir: string;
let relay: E2eRelay;
let debuggeeA: ListeningDebuggee;
let debuggeeB: ListeningDebuggee;
let sshd: TestSshd;
let bastion: TestSshd;
let agent: TestSshAgent;
let sessionKey: TestKey;
let agentKey: TestKey;
let jumpKey: TestKey;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dbgrelay-ssh-e2e-'));
  sessionKey = makeKey(dir, 'session_key', 'correct horse'); // encrypted; passphrase from a file
  agentKey = makeKey(dir, 'agent_key');
  jumpKey = makeKey(dir, 'jump_key');
  const strangerKey = makeKey(dir, 'stranger_key');
  const otherHostKey = makeKey(dir, 'other_host_key');
  writeFileSync(join(dir, 'passphrase'), 'correct horse\n', { mode: 0o600 });
  [debuggeeA, debuggeeB, sshd, bastion, agent] = await Promise.all([
    startListeningDebuggee(),
    startListeningDebuggee(),
    startSshd(dir, 'target', [sessionKey, agentKey, jumpKey]),
    startSshd(dir, 'bastion', [jumpKey]),
    startSshAgent(dir, [agentKey]),
  ]);
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostKey.publicLine}\n[127.0.0.1]:${bastion.port} ${bastion.hostKey.publicLine}\n`);
  execFileSync('ssh-keygen', ['-q', '-H', '-f', knownHosts], { stdio: 'ignore' }); // hashed entries, as with HashKnownHosts yes
  const onlyBastion = join(dir, 'known_hosts_bastion');
  writeFileSync(onlyBastion, `[127.0.0.1]:${bastion.port} ${bastion.hostKey.publicLine}\n`);
  const stale = join(dir, 'known_hosts_stale');
  writeFileSync(stale, `[127.0.0.1]:${sshd.port} ${otherHostKey.publicLine}\n`);

  const url = `ssh://${user}@127.0.0.1:${sshd.port}`;
  const session = { identityFile: sessionKey.file, passphraseFile: join(dir, 'passphrase'), knownHostsFile: knownHosts };
  relay = await startE2eRelay({
    overrides: {
      targets: {
        'ssh-a': { url, debugpy: `127.0.0.1:${debuggeeA.port}`, ssh: session, labels: { via: 'ssh' } },
        'ssh-b': { url, debugpy: `127.0.0.1:${debuggeeB.port}`, ssh: session },
        'ssh-keepalive': { url, debugpy: `127.0.0.1:${debuggeeB.port}`, ssh: { ...session, keepaliveIntervalMs: 250, keepaliveCountMax: 2 } },
        'ssh-agent': { url, debugpy: `127.0.0.1:${debuggeeB.port}`, ssh: { agent: agent.socket, hostKey: sshd.hostKey.fingerprint } },
        'ssh-jump': {
          url,
          debugpy: `127.0.0.1:${debuggeeB.port}`,
          ssh: {
            identityFile: jumpKey.file,
            knownHostsFile: knownHosts,
            jump: [{ url: `ssh://${user}@127.0.0.1:${bastion.port}`, identityFile: jumpKey.file, knownHostsFile: onlyBastion }],
          },
        },
        'ssh-stranger': { url, debugpy: `127.0.0.1:${debuggeeB.port}`, ssh: { identityFile: strangerKey.file, knownHostsFile: knownHosts } },
        'ssh-unknown': { url, debugpy: `127.0.0.1:${debuggeeB.port}`, ssh: { identityFile: jumpKey.file, knownHostsFile: onlyBastion } },
        'ssh-changed': { url, debugpy: `127.0.0.1:${debuggeeB.port}`, ssh: { identityFile: jumpKey.file, knownHostsFile: stale } },
        side: { url: `tcp://127.0.0.1:${debuggeeB.port}` },
      },
    },
  });
});
afterAll(async () => {
  await relay?.stop();
  debuggeeA?.kill();
  debuggeeB?.kill();
  sshd?.kill();
  bastion?.kill();
  agent?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const access = (): ClientAccess => ({ relayUrl: relay.tcpsUrl, caFile: relay.caFile, secret: relay.secret });
const sshConnections = (): Promise<number> => relay.handle.metrics.valueOf('dbgrelay_ssh_connections');

/** Attaches through `dbgrelay attach` with a breakpoint on BP_HANDLE and waits for the stop. */
async function stopAtHandle(target: string) {
  const attach = await startAttach(access(), target);
  const client = await attachSession(attach.address.port, { attachArguments, breakpoints: { path: appPath, lines: [{ line: markerLine('HANDLE') }] } });
  const { frame, event } = await waitForStop(client, 'breakpoint');
  return { attach, client, frame, threadId: event.body.threadId! };
}

/** Clears breakpoints, resumes, disconnects without ending the program, and closes the attach port. */
async function detach(client: DapTestClient, threadId: number, attach: { close(): Promise<void> }): Promise<void> {
  await client.request('setBreakpoints', { source: { path: appPath }, breakpoints: [] });
  await client.request('continue', { threadId });
  await client.request('disconnect', { terminateDebuggee: false });
  await client.close();
  await attach.close();
}

describe('ssh targets', () => {
  it('are listed before anyone attached, with where the relay dials and no reachability yet', async () => {
    const targets = await listTargets(access());
    const a = targets.find((t) => t.name === 'ssh-a');
    expect(a).toMatchObject({
      kind: 'ssh',
      transport: 'ssh',
      host: '127.0.0.1',
      address: `ssh://${user}@127.0.0.1:${sshd.port} → 127.0.0.1:${debuggeeA.port}`,
      labels: { via: 'ssh' },
    });
    expect(a).not.toHaveProperty('reachable');
    expect(targets.find((t) => t.name === 'ssh-jump')?.address).toBe(
      `ssh://${user}@127.0.0.1:${sshd.port} via ssh://${user}@127.0.0.1:${bastion.port} → 127.0.0.1:${debuggeeB.port}`,
    );
    expect(await sshConnections()).toBe(0);
  });

  it('give a full debugging session (breakpoint, variables, evaluate, next, continue), the program runs on after disconnect, and reattach works', async () => {
    const { attach, client, frame, threadId } = await stopAtHandle('ssh-a');
    expect(frame.line).toBe(markerLine('HANDLE'));
    expect(frame.source?.path).toBe(appPath);
    const scopes = await client.request<DebugProtocol.ScopesResponse>('scopes', { frameId: frame.id });
    const locals = await client.request<DebugProtocol.VariablesResponse>('variables', { variablesReference: scopes.body.scopes[0]!.variablesReference });
    const n = Number(locals.body.variables.find((v) => v.name === 'n')?.value);
    expect(n).toBeGreaterThan(0);
    expect(await evaluate(client, 'n * 2', frame.id)).toBe(String(n * 2));
    await client.request('next', { threadId });
    const step = await waitForStop(client, 'step');
    expect(step.frame.line).toBe(markerLine('HANDLE') + 1);
    expect(await evaluate(client, 'total', step.frame.id)).toBe(String(n * 2));
    await detach(client, threadId, attach);
    await debuggeeA.waitForOutput(/tick \d+/, debuggeeA.output().length);

    const again = await stopAtHandle('ssh-a');
    expect(Number(await evaluate(again.client, 'n', again.frame.id))).toBeGreaterThan(n);
    await detach(again.client, again.threadId, again.attach);
    expect((await listTargets(access())).find((t) => t.name === 'ssh-a')).toMatchObject({ reachable: true, sessions: 0 });
    // both sessions went over one SSH connection
    expect(sshd.acceptedLogins(sessionKey)).toBe(1);
    expect(await sshConnections()).toBe(1);
  });

  it('share one SSH connection between concurrent sessions of targets on the same host', async () => {
    const [a, b] = await Promise.all([stopAtHandle('ssh-a'), stopAtHandle('ssh-b')]);
    expect(await evaluate(a.client, 'n', a.frame.id)).toMatch(/^\d+$/);
    expect(await evaluate(b.client, 'n + 1000', b.frame.id)).toMatch(/^\d{4,}$/);
    expect(sshd.acceptedLogins(sessionKey)).toBe(1);
    expect(await sshConnections()).toBe(1);
    await Promise.all([detach(a.client, a.threadId, a.attach), detach(b.client, b.threadId, b.attach)]);
  });

  it('authenticate with a key held by ssh-agent, the host verified by a pinned fingerprint', async () => {
    const { attach, client, frame, threadId } = await stopAtHandle('ssh-agent');
    expect(Number(await evaluate(client, 'n', frame.id))).toBeGreaterThan(0);
    await detach(client, threadId, attach);
    expect(sshd.acceptedLogins(agentKey)).toBe(1);
    expect(await sshConnections()).toBe(2);
  });

  it('reach a host through a jump host, each hop verified', async () => {
    const { attach, client, frame, threadId } = await stopAtHandle('ssh-jump');
    expect(Number(await evaluate(client, 'n', frame.id))).toBeGreaterThan(0);
    await detach(client, threadId, attach);
    expect(bastion.acceptedLogins(jumpKey)).toBe(1);
    expect(sshd.acceptedLogins(jumpKey)).toBe(1);
    expect(await sshConnections()).toBe(4); // session key, agent key, bastion, target through bastion
  });

  it('refuse a key the host does not accept, and unknown or changed host keys, showing the offered fingerprint', async () => {
    const refusal = async (target: string): Promise<string> => {
      const attach = await startAttach(access(), target);
      try {
        return await refusalSeenOnPort(attach.address.port);
      } finally {
        await attach.close();
      }
    };
    const stranger = await refusal('ssh-stranger');
    expect(stranger).toMatch(/SSH_AUTH_FAILED/);
    expect(stranger).toContain(`ssh authentication as ${user}@127.0.0.1:${sshd.port} failed`);
    const unknown = await refusal('ssh-unknown');
    expect(unknown).toMatch(/SSH_HOST_KEY_UNKNOWN/);
    expect(unknown).toContain(`host key of 127.0.0.1:${sshd.port} is not known (offered ssh-ed25519 ${sshd.hostKey.fingerprint}`);
    const changed = await refusal('ssh-changed');
    expect(changed).toMatch(/SSH_HOST_KEY_CHANGED/);
    expect(changed).toContain(`host key of 127.0.0.1:${sshd.port} changed (offered ssh-ed25519 ${sshd.hostKey.fingerprint}`);
    const targets = await listTargets(access());
    expect(targets.find((t) => t.name === 'ssh-changed')).toMatchObject({ reachable: false, detail: expect.stringContaining(sshd.hostKey.fingerprint) });
    expect(targets.find((t) => t.name === 'ssh-stranger')).toMatchObject({ reachable: false, detail: expect.stringMatching(/authentication .* failed/) });
    expect(sshd.logText()).not.toMatch(/Accepted publickey .*stranger/);
  });

  it('drop a connection whose host stops answering keepalives, ending its session', async () => {
    const { attach, client } = await stopAtHandle('ssh-keepalive');
    const from = relay.logText().length;
    sshd.freeze(true);
    try {
      await client.closed;
      expect(relay.logText().slice(from)).toMatch(/"reason":"Keepalive timeout".*"msg":"ssh connection closed"|"msg":"ssh connection closed".*"reason":"Keepalive timeout"/);
    } finally {
      sshd.freeze(false);
    }
    await attach.close();
    // sshd, running again, finds the relay gone and closes its debugpy connection: the program runs on
    await debuggeeB.waitForOutput(/tick \d+/, debuggeeB.output().length);
  });

  it('end the session when sshd dies mid-session, keep serving other targets, and reconnect on the next attach once sshd is back', async () => {
    const { attach, client } = await stopAtHandle('ssh-a');
    const loginsBefore = sshd.acceptedLogins(sessionKey);
    sshd.kill();
    await client.closed; // the relay ends the DAP connection when the SSH channel drops
    expect(client.isConnectionClosed).toBe(true);
    await attach.close();

    // debugpy saw its client go and resumed the program
    await debuggeeA.waitForOutput(/tick \d+/, debuggeeA.output().length);
    // another target still works
    const side = await stopAtHandle('side');
    expect(Number(await evaluate(side.client, 'n', side.frame.id))).toBeGreaterThan(0);
    await detach(side.client, side.threadId, side.attach);

    const down = await startAttach(access(), 'ssh-a');
    try {
      const message = await refusalSeenOnPort(down.address.port);
      expect(message).toMatch(/SSH_UNREACHABLE/);
      expect(message).toContain(`ssh host ${user}@127.0.0.1:${sshd.port} is not reachable (ECONNREFUSED)`);
    } finally {
      await down.close();
    }
    expect((await listTargets(access())).find((t) => t.name === 'ssh-a')).toMatchObject({ reachable: false, detail: expect.stringContaining('ECONNREFUSED') });

    await sshd.restart();
    const back = await stopAtHandle('ssh-a');
    expect(Number(await evaluate(back.client, 'n', back.frame.id))).toBeGreaterThan(0);
    await detach(back.client, back.threadId, back.attach);
    expect(sshd.acceptedLogins(sessionKey)).toBe(loginsBefore + 1); // one new connection
    expect((await listTargets(access())).find((t) => t.name === 'ssh-a')).toMatchObject({ reachable: true });
  });

  it('log connections with the tag ssh, and never the passphrase or key material', () => {
    const log = relay.logText();
    const sshLines = log.split('\n').filter((line) => line.includes('"tag":"ssh"'));
    expect(sshLines.some((line) => line.includes('ssh connection opened') && line.includes(`${user}@127.0.0.1:${sshd.port}`))).toBe(true);
    expect(sshLines.some((line) => line.includes('ssh connection closed'))).toBe(true);
    expect(log).not.toContain('correct horse');
    expect(log).not.toContain('PRIVATE KEY');
    for (const key of [sessionKey, agentKey, jumpKey]) expect(log).not.toContain(key.publicLine.split(' ')[1]!.slice(20, 60));
  });
});
