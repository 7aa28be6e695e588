import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRelayError } from '../../src/common/relayError.js';
import type { RelayConfig } from '../../src/config/configSchema.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import type { DapTestClient } from '../support/dap/dapTestClient.js';
import { runDbgrelay } from '../support/processes/cliProcess.js';
import { markerLine, webAppPath } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { startListeningDebuggee, type ListeningDebuggee } from '../support/processes/listeningDebuggee.js';
import { attachSession, evaluate, listTargets, refusalSeenOnPort, startAttach, waitForStop, type ClientAccess } from '../support/relay/relayClient.js';

/**
 * Reload (SIGHUP, `dbgrelay reload`) and drain (SIGTERM) with real debugpy sidecars and
 * a real DAP client through `dbgrelay attach`: running sessions survive a reload,
 * new ones see the new configuration; a drain tells the client, detaches (the program
 * runs on) and the process exits 0.
 */
const localRoot = '/local/project';
const attachArguments = { pathMappings: [{ localRoot, remoteRoot: dirname(webAppPath) }] };
const handleBreakpoint = { path: `${localRoot}/webApp.py`, lines: [{ line: markerLine('HANDLE') }] };

let relay: E2eRelay;
let side: ListeningDebuggee;
let extra: ListeningDebuggee;
/** The relay secret after (a) rotated it. */
let newSecret: string;

beforeAll(async () => {
  [side, extra] = await Promise.all([startListeningDebuggee(), startListeningDebuggee()]);
  relay = await startE2eRelay({ overrides: { metrics: { enabled: true, port: 0 }, targets: { side: { url: `tcp://127.0.0.1:${side.port}` } } } });
});
afterAll(async () => {
  await relay?.stop();
  side?.kill();
  extra?.kill();
});

const access = (secret: string): ClientAccess => ({ relayUrl: relay.tcpsUrl, caFile: relay.caFile, secret });

/** The running configuration with `change` applied to a copy (what a changed config file loads as). */
function changed(change: (config: Record<string, any>) => void): RelayConfig {
  const copy = structuredClone(relay.handle.config) as Record<string, any>;
  change(copy);
  return copy as RelayConfig;
}

/** Continues every thread, then disconnects (the program runs on). */
async function detach(client: DapTestClient): Promise<void> {
  await client.request('setBreakpoints', { source: { path: handleBreakpoint.path }, breakpoints: [] });
  const threads = await client.request<DebugProtocol.ThreadsResponse>('threads');
  await client.request('continue', { threadId: threads.body.threads[0]!.id });
  await client.request('disconnect', { terminateDebuggee: false });
  await client.close();
}

describe('reload', () => {
  it('(a) a new secret: the running session keeps working, the old secret is refused, the new one attaches', async () => {
    const oldSecret = relay.secret;
    const attach = await startAttach(access(oldSecret), 'side');
    try {
      const client = await attachSession(attach.address.port, { attachArguments, breakpoints: handleBreakpoint });
      const { frame } = await waitForStop(client, 'breakpoint');
      const n = Number(await evaluate(client, 'n', frame.id));

      newSecret = `rotated-${Date.now()}-secret-value`;
      writeFileSync(join(relay.dataDir, 'secret'), newSecret + '\n', { mode: 0o600 });
      const result = relay.handle.reload(changed(() => undefined));
      expect(result).toMatchObject({ secretChanged: true, needsRestart: [] });

      expect(await evaluate(client, 'n * 3', frame.id)).toBe(String(n * 3)); // the session was not dropped
      await detach(client);
    } finally {
      await attach.close();
    }

    const refused = await startAttach(access(oldSecret), 'side');
    try {
      expect(await refusalSeenOnPort(refused.address.port)).toMatch(/AUTH_FAILED/);
    } finally {
      await refused.close();
    }
    const fresh = await startAttach(access(newSecret), 'side');
    try {
      const client = await attachSession(fresh.address.port, { attachArguments });
      const threads = await client.request<DebugProtocol.ThreadsResponse>('threads');
      expect(threads.body.threads.length).toBeGreaterThan(0);
      await client.request('disconnect', { terminateDebuggee: false });
      await client.close();
    } finally {
      await fresh.close();
    }
    expect(await relay.handle.metrics.valueOf('dbgrelay_config_reloads_total', { outcome: 'applied' })).toBe(1);
  });

  it('(b) a broken configuration is refused naming the key, and the running one stays in force', async () => {
    const invalid = () => loadConfig({ env: {}, overrides: { dataDir: relay.dataDir, limits: { maxAgents: 0 } } });
    expect(() => relay.handle.reload(invalid)).toThrow(/limits\.maxAgents/);
    const missingCertificate = changed((c) => (c['tls'] = { certFile: join(relay.dataDir, 'nope.pem'), keyFile: join(relay.dataDir, 'nope-key.pem') }));
    let error: unknown;
    try {
      relay.handle.reload(missingCertificate);
    } catch (caught) {
      error = caught;
    }
    expect(isRelayError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toMatch(/^tls\.certFile: cannot read/);
    expect(await relay.handle.metrics.valueOf('dbgrelay_config_reloads_total', { outcome: 'refused' })).toBe(2);
    // still the configuration of (a): its secret lists the targets, the relay still presents its certificate
    expect((await listTargets(access(newSecret))).map((t) => t.name)).toEqual(['side']);
    expect(relay.handle.config.tls.certFile).toBeUndefined();
  });

  it('(c) a configured tcp:// target added by a reload is listed; a listener port needs a restart', async () => {
    const result = relay.handle.reload(
      changed((c) => {
        c['targets'] = { ...c['targets'], extra: { url: `tcp://127.0.0.1:${extra.port}`, labels: { added: 'reload' } } };
        c['listeners'].tcps.port = 1; // cannot move a running listener
      }),
    );
    expect(result.targets).toEqual({ added: ['extra'], removed: [], replaced: [] });
    expect(result.needsRestart).toEqual(['listeners.tcps.port']);
    expect(result.changed).toEqual(expect.arrayContaining(['targets.extra']));
    const listed = await listTargets(access(newSecret));
    expect(listed.map((t) => t.name)).toEqual(['extra', 'side']);
    expect(listed.find((t) => t.name === 'extra')).toMatchObject({ kind: 'tcp', address: `tcp://127.0.0.1:${extra.port}`, labels: { added: 'reload' } });
    expect(relay.handle.config.listeners.tcps.port).toBe(0); // the running value (port 0: any) stays in force
  });
});

describe('drain', () => {
  it('(d) tells the paused session, refuses new ones with RELAY_DRAINING, turns /readyz 503, detaches: the program runs on', async () => {
    const attach = await startAttach(access(newSecret), 'side');
    try {
      const client = await attachSession(attach.address.port, { attachArguments, breakpoints: handleBreakpoint });
      await waitForStop(client, 'breakpoint');
      const notice = client.waitForEvent<DebugProtocol.OutputEvent>('output', (e) => /shutting down/.test(e.body.output), 10_000);
      const drained = relay.handle.drain(3_000);
      const event = await notice;
      expect(event.body.category).toBe('console');
      expect(event.body.output).toMatch(/will be detached at \d{4}-\d\d-\d\dT.*the program keeps running/);

      const readyz = await fetch(`${relay.handle.metricsAddress!.url}/readyz`);
      expect(readyz.status).toBe(503);
      const refusedAttach = await startAttach(access(newSecret), 'extra');
      try {
        expect(await refusalSeenOnPort(refusedAttach.address.port)).toMatch(/RELAY_DRAINING/);
      } finally {
        await refusedAttach.close();
      }

      const from = side.output().length;
      await drained;
      await side.waitForOutput(/tick \d+/, from); // detached: breakpoints gone, threads resumed
      await client.closed;
      expect(relay.handle.ready).toBe(false);
    } finally {
      await attach.close();
    }
  });
});

describe('dbgrelay serve as a process', () => {
  it('(e) `dbgrelay reload` reports applied and refused reloads; SIGTERM drains a paused session and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-lifecycle-'));
    const configFile = join(dir, 'config.yaml');
    const base = [
      `dataDir: ${join(dir, 'data')}`,
      'listeners: { wss: { port: 0 }, tcps: { port: 0 } }',
      'lifecycle: { drainGraceMs: 4000 }',
      `targets: { side: { url: "tcp://127.0.0.1:${side.port}" } }`,
    ].join('\n');
    writeFileSync(configFile, base + '\n');
    const serve = runDbgrelay(['serve', '--config', configFile]);
    try {
      const [, tcpsUrl] = await serve.waitFor(/tcps listening on (tcps:\/\/127\.0\.0\.1:\d+)/);
      const dataDir = join(dir, 'data');
      expect(readFileSync(join(dataDir, 'dbgrelay.pid'), 'utf8').trim()).toBe(String(serve.child.pid));
      const secret = readFileSync(join(dataDir, 'secret'), 'utf8').trim();

      writeFileSync(configFile, base + '\npolicies: { default: no-eval }\n');
      const applied = runDbgrelay(['reload', '--config', configFile]);
      expect(await applied.exited).toBe(0);
      expect(applied.output()).toMatch(/configuration reloaded \(pid \d+\)[\s\S]*applied: policies\.default/);

      writeFileSync(configFile, base + '\npolicies: { default: everything }\n');
      const refused = runDbgrelay(['reload', '--config', configFile]);
      expect(await refused.exited).toBe(78); // EX_CONFIG, as for any configuration dbgrelay cannot use
      expect(refused.output()).toMatch(/reload refused[\s\S]*policies\.default/);
      await serve.waitFor(/reload refused: .*policies\.default/);

      const attach = await startAttach({ relayUrl: tcpsUrl!, caFile: join(dataDir, 'ca.pem'), secret }, 'side');
      try {
        const client = await attachSession(attach.address.port, { attachArguments, breakpoints: handleBreakpoint });
        await waitForStop(client, 'breakpoint');
        const notice = client.waitForEvent<DebugProtocol.OutputEvent>('output', (e) => /shutting down/.test(e.body.output), 10_000);
        const from = side.output().length;
        serve.child.kill('SIGTERM');
        await notice;
        expect(await serve.exited).toBe(0);
        await side.waitForOutput(/tick \d+/, from); // the program runs on
        await client.closed;
      } finally {
        await attach.close();
      }
      expect(existsSync(join(dataDir, 'dbgrelay.pid'))).toBe(false);
    } finally {
      await serve.stop();
    }
  });
});
