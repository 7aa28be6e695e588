import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClientIdentity, type ClientIdentity } from '../../src/dial/clientIdentity.js';
import { dialSession } from '../../src/dial/relayDialer.js';
import { parseRelayEndpoint } from '../../src/dial/relayEndpoint.js';
import { caTrust } from '../../src/dial/tlsTrust.js';
import { isRelayError } from '../../src/common/relayError.js';
import { startDebuggee, markerLine, webAppPath, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { attachSession, evaluate, listTargets, startAttach, waitForStop, waitForTargets, type ClientAccess } from '../support/relay/relayClient.js';

/**
 * mTLS and brute-force protection with the real relay, the real agent and debugpy:
 * certificates made with `dbgrelay certs init|client` as a user makes them, a relay
 * that requires client certificates on both listeners, and a relay that locks out a
 * source after repeated wrong secrets. (Every test runs on 127.0.0.1, so per-source
 * versus per-identity counting is shown by the unit tests.)
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'src', 'cli', 'main.ts');

/** Runs the `dbgrelay` CLI to completion; resolves with its exit code and output. */
function dbgrelay(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!('DBGRELAY_SECRET' in env)) delete childEnv['DBGRELAY_SECRET'];
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

async function mustRun(args: string[]): Promise<string> {
  const { code, output } = await dbgrelay(args);
  expect(code, output).toBe(0);
  return output;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    const value = await promise;
    (value as { destroy?: () => void }).destroy?.();
    return 'OK';
  } catch (error) {
    return isRelayError(error) ? error.code : String(error);
  }
}

const started: Debuggee[] = [];
const spawnDebuggee = (options: Parameters<typeof startDebuggee>[0]): Debuggee => {
  const debuggee = startDebuggee(options);
  started.push(debuggee);
  return debuggee;
};
afterAll(() => {
  for (const debuggee of started) debuggee.kill();
});

describe('a relay that requires client certificates', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-mtls-'));
  const foreign = mkdtempSync(join(tmpdir(), 'dbgrelay-mtls-foreign-'));
  const name = 'web-mtls';
  let relay: E2eRelay;
  let alice: ClientIdentity;
  let impostor: ClientIdentity;
  let access: ClientAccess;
  const agentCert = ['--client-cert', join(dir, 'client-agent-web.pem'), '--client-key', join(dir, 'client-agent-web-key.pem')];

  beforeAll(async () => {
    // The user's steps: a CA and server certificate in the relay's data directory,
    // client certificates for an engineer and for an agent; and an unrelated CA that
    // issued a certificate with the same CN.
    await mustRun(['certs', 'init', '--dir', dir]);
    await Promise.all([
      mustRun(['certs', 'client', 'alice', '--dir', dir]),
      mustRun(['certs', 'client', 'agent-web', '--dir', dir]),
      mustRun(['certs', 'init', '--dir', foreign]).then(() => mustRun(['certs', 'client', 'alice', '--dir', foreign])),
    ]);
    relay = await startE2eRelay({
      dataDir: dir,
      overrides: {
        listeners: { wss: { port: 0, clientCertificates: 'required' }, tcps: { port: 0, clientCertificates: 'required' } },
        tls: { clientCaFile: join(dir, 'ca.pem') },
        auth: {
          certificates: {
            grants: [
              { cn: 'alice', scopes: ['attach:web-*'] },
              { cn: 'agent-*', scopes: ['register:web-*'] },
            ],
          },
        },
      },
    });
    alice = loadClientIdentity(join(dir, 'client-alice.pem'), join(dir, 'client-alice-key.pem'));
    impostor = loadClientIdentity(join(foreign, 'client-alice.pem'), join(foreign, 'client-alice-key.pem'));
    access = { relayUrl: relay.wssUrl, caFile: relay.caFile, secret: relay.secret, identity: alice };
  });
  afterAll(async () => {
    await relay?.stop();
  });

  it('registers an agent that presents its client certificate (and the secret)', async () => {
    spawnDebuggee({ relayUrl: relay.tcpsUrl, name, secret: relay.secret, caFile: relay.caFile, extraArgs: agentCert });
    const targets = await waitForTargets(access, (t) => t.some((x) => x.name === name));
    expect(targets.find((t) => t.name === name)?.transport).toBe('tcps');
  });

  it('refuses an agent without a client certificate: AUTH_REQUIRED, nothing registered', async () => {
    const agent = spawnDebuggee({ relayUrl: relay.wssUrl, name: 'web-nocert', secret: relay.secret, caFile: relay.caFile, extraArgs: ['--wait-for-relay=5'] });
    expect(await agent.exited).toBe(2);
    expect(agent.output()).toContain('AUTH_REQUIRED');
    expect(agent.output()).toContain('client certificate is required');
    expect((await listTargets(access)).map((t) => t.name)).not.toContain('web-nocert');
  });

  it('attaches with a valid client certificate and the secret, and debugs', async () => {
    for (const relayUrl of [relay.wssUrl, relay.tcpsUrl]) {
      const attach = await startAttach({ ...access, relayUrl }, name);
      try {
        const client = await attachSession(attach.address.port, { breakpoints: { path: webAppPath, lines: [{ line: markerLine('HANDLE') }] } });
        const { event, frame } = await waitForStop(client, 'breakpoint');
        expect(frame.name).toBe('handle_request');
        expect(await evaluate(client, 'n * 0 + 42', frame.id)).toBe('42');
        await client.request('setBreakpoints', { source: { path: webAppPath }, breakpoints: [] });
        await client.request('continue', { threadId: event.body.threadId });
        await client.request('disconnect', {});
        await client.close();
      } finally {
        await attach.close();
      }
    }
  });

  it('refuses a client without a certificate (AUTH_REQUIRED) and one whose certificate comes from another CA (AUTH_FAILED)', async () => {
    const dial = (relayUrl: string, identity?: ClientIdentity) =>
      dialSession({
        endpoint: parseRelayEndpoint(relayUrl),
        trust: caTrust(readFileSync(relay.caFile, 'utf8'), relay.caFile),
        secret: relay.secret,
        target: name,
        ...(identity ? { identity } : {}),
      });
    for (const relayUrl of [relay.wssUrl, relay.tcpsUrl]) {
      expect(await codeOf(dial(relayUrl))).toBe('AUTH_REQUIRED');
      expect(await codeOf(dial(relayUrl, impostor))).toBe('AUTH_FAILED');
    }
    const log = relay.logText();
    expect(log).toContain('client certificate not trusted');
    expect(log).not.toContain(relay.secret);
  });

  it('`dbgrelay targets --cert --key` lists the target; without them the CLI says why', async () => {
    const env = { DBGRELAY_SECRET: relay.secret };
    const withCert = await dbgrelay(['targets', '--relay', relay.tcpsUrl, '--ca', relay.caFile, '--cert', alice.source, '--key', join(dir, 'client-alice-key.pem'), '--json'], env);
    expect(withCert.code, withCert.output).toBe(0);
    expect(withCert.output).toContain(`"name": "${name}"`);
    const without = await dbgrelay(['targets', '--relay', relay.wssUrl, '--ca', relay.caFile], env);
    expect(without.code).not.toBe(0);
    expect(without.output).toContain('AUTH_REQUIRED');
    expect(without.output).toContain('client certificate is required');
  });

  it('counts the refusals in its metrics, by reason', async () => {
    const metrics = relay.handle.metrics;
    // At least: the agent without a certificate, two dials and the CLI without one.
    expect(await metrics.valueOf('dbgrelay_auth_failures_total', { reason: 'AUTH_REQUIRED' })).toBeGreaterThanOrEqual(4);
    expect(await metrics.valueOf('dbgrelay_auth_failures_total', { reason: 'AUTH_FAILED' })).toBe(2);
    expect(await metrics.valueOf('dbgrelay_auth_lockouts_total')).toBe(0);
  });
});

describe('a relay that locks out repeated wrong secrets', () => {
  let relay: E2eRelay;

  beforeAll(async () => {
    relay = await startE2eRelay({ overrides: { auth: { lockout: { threshold: 3, baseMs: 120_000 } } } });
  });
  afterAll(async () => {
    await relay?.stop();
  });

  const httpsStatus = (secret: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const url = `${relay.wssUrl.replace('wss:', 'https:')}/v1/targets`;
      const req = request(url, { ca: readFileSync(relay.caFile), headers: { Authorization: `Basic ${Buffer.from(`${secret}:`).toString('base64')}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });

  it('locks the source out: HTTP 429 and AUTH_LOCKED on tcps, for the right secret too, and for a real agent', async () => {
    const wrong = { relayUrl: relay.wssUrl, caFile: relay.caFile, secret: 'not-the-secret' };
    expect(await codeOf(listTargets(wrong))).toBe('AUTH_FAILED');
    expect(await httpsStatus('still-not-the-secret')).toBe(401);
    expect(await codeOf(listTargets({ ...wrong, relayUrl: relay.tcpsUrl }))).toBe('AUTH_FAILED');

    expect(await httpsStatus(relay.secret)).toBe(429);
    expect(await codeOf(listTargets({ ...wrong, relayUrl: relay.tcpsUrl, secret: relay.secret }))).toBe('AUTH_LOCKED');
    const agent = spawnDebuggee({ relayUrl: relay.tcpsUrl, name: 'web-locked', secret: relay.secret, caFile: relay.caFile, extraArgs: ['--wait-for-relay=5'] });
    expect(await agent.exited).toBe(2);
    expect(agent.output()).toContain('AUTH_LOCKED');

    const metrics = relay.handle.metrics;
    expect(await metrics.valueOf('dbgrelay_auth_failures_total', { reason: 'AUTH_FAILED' })).toBe(3);
    expect(await metrics.valueOf('dbgrelay_auth_failures_total', { reason: 'AUTH_LOCKED' })).toBeGreaterThanOrEqual(3);
    expect(await metrics.valueOf('dbgrelay_auth_lockouts_total')).toBe(1);
    expect(await metrics.valueOf('dbgrelay_auth_locked_sources')).toBe(1);
    const text = await relay.handle.metrics.registry.metrics();
    expect(text).toContain('dbgrelay_auth_failures_total{reason="AUTH_FAILED"} 3');

    const log = relay.logText();
    expect(log).toMatch(/"tag":"auth".*"source":"127\.0\.0\.1".*"msg":"source locked out"/);
    for (const secret of ['not-the-secret', 'still-not-the-secret', relay.secret]) expect(log).not.toContain(secret);
  });
});
