import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRelayEndpoint } from '../../src/dial/relayEndpoint.js';
import { checkAttachAdmission, dialSession } from '../../src/dial/relayDialer.js';
import { caTrust } from '../../src/dial/tlsTrust.js';
import { DapRequestError, DapTestClient } from '../support/dap/dapTestClient.js';
import { FakeAgent } from '../support/fakes/fakeAgent.js';
import { testCertificates } from '../support/keys/testCertificates.js';
import { runDbgrelay, type CliProcess } from '../support/processes/cliProcess.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';

/**
 * `dbgrelay attach` checks the relay, the credential and the target before it listens,
 * fails with an exit status of the failure's kind and a message that names the fix, and
 * `dbgrelay targets` says what an attach secret is for; against the real relay and the
 * built CLI.
 */
const otherCaFile = testCertificates('other').caFile;
const target = 'checked-web';
const attachSecret = 'attach-secret-of-checked-web';
let relay: E2eRelay;
let agent: FakeAgent;
let scratch: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  relay = await startE2eRelay();
  scratch = mkdtempSync(join(tmpdir(), 'dbgrelay-checks-'));
  const ports = { wssPort: Number(new URL(relay.wssUrl.replace('wss:', 'https:')).port), tcpsPort: Number(new URL(relay.tcpsUrl.replace('tcps:', 'https:')).port) };
  agent = await FakeAgent.start(
    { ...ports, ca: readFileSync(relay.caFile, 'utf8') },
    { via: 'tcps', credential: { secret: relay.secret }, name: target, agentId: 'checks-1', attachSecret },
  );
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  agent?.control.close();
  await relay?.stop();
});

function dbgrelay(args: string[], env: Record<string, string>): CliProcess {
  const run = runDbgrelay(args, env, { built: true });
  children.push(run.child);
  return run;
}

function file(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('dbgrelay attach checks before it listens', () => {
  it('prints the launch configuration alone on stdout with --json, once the target is checked', async () => {
    const attach = dbgrelay(['attach', target, '--relay', relay.tcpsUrl, '--ca', relay.caFile, '--port', '0', '--json'], { DBGRELAY_SECRET: relay.secret });
    let stdout = '';
    attach.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const [, port] = await attach.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
    await expect.poll(() => stdout).toMatch(/\}\n$/);
    const configuration = JSON.parse(stdout) as { request: string; connect: { port: number } };
    expect(configuration.request).toBe('attach');
    expect(configuration.connect.port).toBe(Number(port));
    expect(attach.output()).toContain(', checked');
    await attach.stop();
    expect(await attach.exited).toBe(0);
  });

  it.each([
    ['an unreachable relay', async () => ['--relay', `tcps://127.0.0.1:${await closedPort()}`, '--ca', relay.caFile], {}, 69, 'RELAY_UNREACHABLE', 'cannot reach'],
    ['a target that is not connected', async () => ['--relay', relay.wssUrl, '--ca', relay.caFile], {}, 69, 'UNKNOWN_TARGET', '--no-check'],
    // names the CA file that was used (the relay's fingerprint follows it: test/unit/dial)
    ['a CA that did not sign the relay', async () => ['--relay', relay.tcpsUrl, '--ca', otherCaFile], {}, 76, 'TLS_VERIFY_FAILED', `CA file ${otherCaFile}`],
    [
      'a refused token',
      async () => ['--relay', relay.wssUrl, '--ca', relay.caFile],
      { DBGRELAY_TOKEN: 'not.a.token' },
      77,
      'AUTH_',
      'credential used: the token in DBGRELAY_TOKEN',
    ],
  ] as const)('fails on %s with its exit status, naming the fix, and never listens', async (_what, args, env, status, code, fix) => {
    const name = code === 'UNKNOWN_TARGET' ? 'not-connected' : target;
    const attach = dbgrelay(['attach', name, ...(await args()), '--port', '0'], { DBGRELAY_SECRET: relay.secret, ...env });
    expect(await attach.exited, attach.output()).toBe(status);
    expect(attach.output()).toContain(code);
    expect(attach.output()).toContain(fix);
    expect(attach.output()).not.toContain('listening on');
  });

  it('names --takeover when the target is busy with another principal (checked when the debugger connects)', async () => {
    const holder = await dialSession({
      endpoint: parseRelayEndpoint(relay.tcpsUrl),
      trust: caTrust(readFileSync(relay.caFile, 'utf8'), relay.caFile),
      secret: relay.secret,
      target,
    });
    try {
      const attach = dbgrelay(['attach', target, '--relay', relay.tcpsUrl, '--ca', relay.caFile, '--port', '0', '--secret-file', file('attach-secret', attachSecret)], {});
      const [, port] = await attach.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
      // An attach secret cannot list targets: the check says what it could not establish.
      expect(attach.output()).toContain('allows only attaching');
      const client = await DapTestClient.connect(Number(port));
      const refused = await client.request('initialize', { adapterID: 'debugpy' }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(DapRequestError);
      expect((refused as DapRequestError).message).toContain('TARGET_BUSY');
      expect((refused as DapRequestError).message).toContain('--takeover');
      await attach.stop();
    } finally {
      holder.destroy();
    }
  });
});

describe("the relay's attach check (wss, revision 1.14)", () => {
  it('refuses a target busy with another principal before listening: 75, naming --takeover', async () => {
    const holder = await dialSession({
      endpoint: parseRelayEndpoint(relay.tcpsUrl),
      trust: caTrust(readFileSync(relay.caFile, 'utf8'), relay.caFile),
      secret: relay.secret,
      target,
    });
    try {
      const attach = dbgrelay(['attach', target, '--relay', relay.wssUrl, '--ca', relay.caFile, '--port', '0', '--secret-file', file('attach-secret-wss', attachSecret)], {});
      expect(await attach.exited, attach.output()).toBe(75);
      expect(attach.output()).toContain('TARGET_BUSY');
      expect(attach.output()).toContain('--takeover');
      expect(attach.output()).not.toContain('listening on');
    } finally {
      holder.destroy();
    }
    // Released: the same attach secret is admitted (the check knows attach secrets), and nothing was opened by the refused check.
    await expect.poll(() => agent.opens.length).toBeGreaterThan(0);
    const opens = agent.opens.length;
    const attach = dbgrelay(['attach', target, '--relay', relay.wssUrl, '--ca', relay.caFile, '--port', '0', '--secret-file', file('attach-secret-wss', attachSecret)], {});
    await attach.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
    expect(attach.output()).toContain(', checked');
    expect(agent.opens.length).toBe(opens);
    await attach.stop();
  });

  it("attaches with a target's attach secret without one refused authentication at the relay (no listing asked; the check's answer carries the root)", async () => {
    const failures = (): Promise<number> => relay.handle.metrics.valueOf('dbgrelay_auth_failures_total', { reason: 'AUTH_FAILED' });
    const before = await failures();
    const attach = dbgrelay(
      ['attach', target, '--relay', relay.wssUrl, '--ca', relay.caFile, '--port', '0', '--json', '--secret-file', file('attach-secret-counted', attachSecret)],
      {},
    );
    await attach.waitFor(/Press Ctrl\+C to stop/);
    expect(attach.output()).toContain(', checked');
    await attach.stop();
    expect(await failures()).toBe(before);
    // The relay's answer (revision 1.15) carries the entry the client used to ask the list for.
    const admission = await checkAttachAdmission({
      endpoint: parseRelayEndpoint(relay.wssUrl),
      trust: caTrust(readFileSync(relay.caFile, 'utf8'), relay.caFile),
      secret: attachSecret,
      target,
    });
    expect(admission).toMatchObject({ verdict: 'admitted', target: { name: target, kind: 'agent' } });
    expect(await failures()).toBe(before);
  });

  it('refuses a wrong attach secret before listening: 77, naming its file', async () => {
    const wrong = file('wrong-attach-secret', 'not-the-attach-secret-of-it');
    const attach = dbgrelay(['attach', target, '--relay', relay.wssUrl, '--ca', relay.caFile, '--port', '0', '--secret-file', wrong], {});
    expect(await attach.exited, attach.output()).toBe(77);
    expect(attach.output()).toContain(`credential used: the secret in --secret-file ${wrong}`);
    expect(attach.output()).not.toContain('listening on');
  });
});

describe('dbgrelay targets with the wrong credential', () => {
  it("exits 77, names the secret's file and says an attach secret allows only attaching", async () => {
    const secretFile = file('attach-secret-for-targets', attachSecret);
    const targets = dbgrelay(['targets', '--relay', relay.wssUrl, '--ca', relay.caFile, '--secret-file', secretFile], {});
    expect(await targets.exited, targets.output()).toBe(77);
    expect(targets.output()).toContain('AUTH_FAILED');
    expect(targets.output()).toContain(`credential used: the secret in --secret-file ${secretFile}`);
    expect(targets.output()).toContain('allows only attaching');
    expect(targets.output()).not.toContain(attachSecret);
  });
});

describe('exit status of usage errors', () => {
  it.each([
    [['attach', 'web-1', '--port', 'not-a-port'], 64],
    [['attach', 'web-1', '--no-such-flag'], 64],
    [['no-such-command'], 64],
    [['--help'], 0],
  ])('dbgrelay %j exits %i', async (args, status) => {
    const run = dbgrelay(args, {});
    expect(await run.exited, run.output()).toBe(status);
  });
});
