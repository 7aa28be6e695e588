import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateFingerprint } from '../../src/certs/certificateFactory.js';
import type { DoctorCheckResult } from '../../src/doctor/doctorCheck.js';
import { FakeAgent } from '../support/fakes/fakeAgent.js';
import { testCertificates } from '../support/keys/testCertificates.js';
import { startConnectProxy } from '../support/net/loopbackProxies.js';
import { runDbgrelay, type CliProcess } from '../support/processes/cliProcess.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';

/** `dbgrelay doctor` (the built CLI) against the real relay: what it finds, what it says to do, and its exit status. */
let relay: E2eRelay;
let scratch: string;
let agent: FakeAgent;
const attachSecret = 'attach-secret-of-doctor-web';
const children: ChildProcess[] = [];

beforeAll(async () => {
  relay = await startE2eRelay();
  scratch = mkdtempSync(join(tmpdir(), 'dbgrelay-doctor-'));
  const port = (url: string): number => Number(url.slice(url.lastIndexOf(':') + 1));
  agent = await FakeAgent.start(
    { wssPort: port(relay.wssUrl), tcpsPort: port(relay.tcpsUrl), ca: readFileSync(relay.caFile, 'utf8') },
    { via: 'tcps', credential: { secret: relay.secret }, name: 'doctor-web', agentId: 'doctor-1', attachSecret },
  );
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  agent?.control.close();
  await relay?.stop();
});

function doctor(args: string[], env: Record<string, string>): CliProcess {
  const run = runDbgrelay(['doctor', ...args], env, { built: true });
  children.push(run.child);
  return run;
}

async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A JWT-shaped token (unsigned: doctor only decodes it) with these claims. */
function unsignedToken(claims: Record<string, unknown>): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'EdDSA', typ: 'JWT' })}.${part(claims)}.${Buffer.from('not-a-signature').toString('base64url')}`;
}

describe('dbgrelay doctor', () => {
  it('passes every check against a reachable, trusted relay with an accepted credential, and says what it saw', async () => {
    const run = doctor(['--relay', relay.wssUrl, '--ca', relay.caFile, '--json'], { DBGRELAY_SECRET: relay.secret });
    let stdout = '';
    run.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    expect(await run.exited, run.output()).toBe(0);
    const report = JSON.parse(stdout) as { exitStatus: number; checks: DoctorCheckResult[] };
    expect(report.exitStatus).toBe(0);
    expect(report.checks.map((c) => `${c.check}:${c.status}`)).toEqual(['proxy:ok', 'dns:ok', 'tcp:ok', 'tls:ok', 'clock:ok', 'credential:ok']);
    const tls = report.checks.find((c) => c.check === 'tls')!;
    const serverFingerprint = certificateFingerprint(readFileSync(join(relay.dataDir, 'server.pem'), 'utf8'));
    expect((tls.details!['chain'] as Array<{ fingerprint: string; subjectAltName: string }>)[0]).toMatchObject({
      fingerprint: serverFingerprint,
      subjectAltName: expect.stringContaining('127.0.0.1'),
    });
    expect(report.checks.find((c) => c.check === 'credential')!.summary).toContain('the secret in DBGRELAY_SECRET is accepted');
    expect(stdout).not.toContain(relay.secret);
  });

  it("fails on a CA that did not sign the relay with 76, naming the CA file and the relay's fingerprints", async () => {
    const otherCa = testCertificates('other').caFile;
    const run = doctor(['--relay', relay.tcpsUrl, '--ca', otherCa], { DBGRELAY_SECRET: relay.secret });
    expect(await run.exited, run.output()).toBe(76);
    const serverFingerprint = certificateFingerprint(readFileSync(join(relay.dataDir, 'server.pem'), 'utf8'));
    expect(run.output()).toMatch(/FAIL +tls/);
    expect(run.output()).toContain(`CA file ${otherCa}`);
    expect(run.output()).toContain(serverFingerprint);
    expect(run.output()).toMatch(/skip +credential +not run: the tls check failed/);
    expect(run.output()).toContain('first failure: tls (TLS_VERIFY_FAILED)');
  });

  it('fails on a port where nothing listens with 69, saying what to check', async () => {
    const run = doctor(['--relay', `wss://127.0.0.1:${await closedPort()}`, '--ca', relay.caFile], { DBGRELAY_SECRET: relay.secret });
    expect(await run.exited, run.output()).toBe(69);
    expect(run.output()).toMatch(/FAIL +tcp +cannot connect to the relay 127\.0\.0\.1:\d+: ECONNREFUSED/);
    expect(run.output()).toContain('nothing listens on');
  });

  it('fails on a refused secret with 77, naming the file it came from', async () => {
    const secretFile = join(scratch, 'wrong-secret');
    writeFileSync(secretFile, 'not-the-relay-secret', { mode: 0o600 });
    const run = doctor(['--relay', relay.wssUrl, '--ca', relay.caFile, '--secret-file', secretFile], {});
    expect(await run.exited, run.output()).toBe(77);
    expect(run.output()).toMatch(/FAIL +credential/);
    expect(run.output()).toContain(`credential used: the secret in --secret-file ${secretFile}`);
    expect(run.output()).not.toContain('not-the-relay-secret');
  });

  it("with --target, checks a target's attach secret with the relay's attach check (it cannot list targets)", async () => {
    const secretFile = join(scratch, 'attach-secret');
    writeFileSync(secretFile, attachSecret, { mode: 0o600 });
    const failures = (): Promise<number> => relay.handle.metrics.valueOf('dbgrelay_auth_failures_total', { reason: 'AUTH_FAILED' });
    const before = await failures();
    const run = doctor(['--relay', relay.wssUrl, '--ca', relay.caFile, '--secret-file', secretFile, '--target', 'doctor-web'], {});
    expect(await run.exited, run.output()).toBe(0);
    // Admitted by the attach check, the attach secret is not made to ask the list: no refused (counted) authentication.
    expect(await failures()).toBe(before);
    expect(run.output()).toMatch(/ok +target +a session with doctor-web would be admitted now/);
    expect(run.output()).toMatch(/ok +credential +the secret in --secret-file \S+ is accepted for attaching to doctor-web; the target list was not asked/);
    const missing = doctor(['--relay', relay.wssUrl, '--ca', relay.caFile, '--secret-file', secretFile, '--target', 'not-connected'], {});
    expect(await missing.exited, missing.output()).not.toBe(0);
    expect(missing.output()).toMatch(/FAIL +target/);
  });

  it("checks an agent's expired token by the relay's clock with --as agent (77)", async () => {
    const token = unsignedToken({ sub: 'agent-web', scope: 'register:web-*', exp: Math.floor(Date.now() / 1000) - 600 });
    const run = doctor(['--relay', relay.wssUrl, '--ca', relay.caFile, '--as', 'agent'], { DBGRELAY_TOKEN: token });
    expect(await run.exited, run.output()).toBe(77);
    expect(run.output()).toMatch(/FAIL +token +the token in DBGRELAY_TOKEN: jwt:agent-web, scopes register:web-\*; it expired 10 min ago/);
    expect(run.output()).toMatch(/ok +clock/);
    // The agent's credential is presented as the agent does (this relay takes no bearer tokens).
    expect(run.output()).toMatch(/FAIL +credential +relay refused/);
    expect(run.output()).toContain('first failure: token (AUTH_FAILED)');
  });
});

describe('dbgrelay doctor reports what would have stopped it as checks', () => {
  it('a relay reached through a proxy with no credential: the network and TLS checks run, the credential check fails (78)', async () => {
    const proxy = await startConnectProxy();
    try {
      const run = doctor(['--relay', relay.wssUrl, '--ca', relay.caFile, '--json'], { HTTPS_PROXY: proxy.url, DBGRELAY_DATA_DIR: scratch });
      let stdout = '';
      run.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      expect(await run.exited, run.output()).toBe(78);
      const report = JSON.parse(stdout) as { checks: DoctorCheckResult[] };
      const statuses = report.checks.map((c) => `${c.check}:${c.status}`).filter((status) => !status.startsWith('clock:'));
      expect(statuses).toEqual(['proxy:ok', 'dns:ok', 'tcp:ok', 'tls:ok', 'credential:fail']);
      expect(report.checks.at(-1)).toMatchObject({ code: 'CONFIG_INVALID', summary: expect.stringContaining('no credential for the relay') });
    } finally {
      await proxy.close();
    }
  });

  it('a malformed HTTPS_PROXY: the proxy check fails in the report', async () => {
    const run = doctor(['--relay', relay.wssUrl, '--ca', relay.caFile], { HTTPS_PROXY: 'http://[not-an-address', DBGRELAY_SECRET: relay.secret });
    expect(await run.exited, run.output()).not.toBe(0);
    expect(run.output()).toMatch(/FAIL +proxy/);
    expect(run.output()).toMatch(/skip +credential/);
  });
});

describe('dbgrelay doctor --as agent', () => {
  it("presents the agent's credential, chosen in the agent's order, on the agent's control connection", async () => {
    const agentSecretFile = join(scratch, 'agent-secret');
    writeFileSync(agentSecretFile, relay.secret, { mode: 0o600 });
    // --agent-secret-file wins over the environment's token, as in agent-py.
    const fromFile = doctor(['--relay', relay.tcpsUrl, '--ca', relay.caFile, '--as', 'agent', '--agent-secret-file', agentSecretFile], { DBGRELAY_TOKEN: 'x.y.z' });
    expect(await fromFile.exited, fromFile.output()).toBe(0);
    expect(fromFile.output()).toMatch(/ok +credential +the agent secret in --agent-secret-file \S+ is accepted for an agent's control connection/);
    const overWss = doctor(['--relay', relay.wssUrl, '--ca', relay.caFile, '--as', 'agent'], { DBGRELAY_AGENT_SECRET_FILE: agentSecretFile });
    expect(await overWss.exited, overWss.output()).toBe(0);
    expect(overWss.output()).toMatch(/ok +credential +the agent secret in DBGRELAY_AGENT_SECRET_FILE \S+ is accepted/);
    // With no relay credential the agent falls back to its attach secret (DBGRELAY_SECRET): a target's attach secret is no agent credential.
    const attachOnly = doctor(['--relay', relay.wssUrl, '--ca', relay.caFile, '--as', 'agent'], { DBGRELAY_SECRET: attachSecret });
    expect(await attachOnly.exited, attachOnly.output()).toBe(77);
    expect(attachOnly.output()).toMatch(/FAIL +credential/);
    expect(attachOnly.output()).toContain('the secret in DBGRELAY_SECRET');
    expect(attachOnly.output()).not.toContain(attachSecret);
  });

  it('reports an agent with no credential as a failed check (78) after the network and TLS checks', async () => {
    const run = doctor(['--relay', relay.wssUrl, '--ca', relay.caFile, '--as', 'agent'], { DBGRELAY_DATA_DIR: scratch });
    expect(await run.exited, run.output()).toBe(78);
    expect(run.output()).toMatch(/ok +tls/);
    expect(run.output()).toMatch(/FAIL +credential +no relay credential for the agent/);
  });
});
