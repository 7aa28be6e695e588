import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialSession } from '../../src/dial/relayDialer.js';
import { parseRelayEndpoint } from '../../src/dial/relayEndpoint.js';
import { caTrust } from '../../src/dial/tlsTrust.js';
import { isRelayError } from '../../src/common/relayError.js';
import { startDebuggee, markerLine, webAppPath, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { attachSession, listTargets, refusalSeenOnPort, startAttach, waitForStop, waitForTargets, type ClientAccess } from '../support/relay/relayClient.js';

/**
 * Failure cases with the real relay, agent and debugpy: refused credentials, unknown
 * targets, clients that vanish while the program is paused, relay restarts, debuggee
 * exit, and secrets that must never leak.
 */
let relay: E2eRelay;
let access: ClientAccess;
const started: Debuggee[] = [];
const spawn = (options: Parameters<typeof startDebuggee>[0]): Debuggee => {
  const debuggee = startDebuggee(options);
  started.push(debuggee);
  return debuggee;
};

beforeAll(async () => {
  relay = await startE2eRelay();
  access = { relayUrl: relay.wssUrl, caFile: relay.caFile, secret: relay.secret };
});
afterAll(async () => {
  for (const debuggee of started) debuggee.kill();
  await relay?.stop();
});

/** The refusal a DAP client sees from `dbgrelay attach` when the relay refuses the session. */
async function refusalSeenByDapClient(clientAccess: ClientAccess, target: string): Promise<string> {
  const attach = await startAttach(clientAccess, target);
  try {
    return await refusalSeenOnPort(attach.address.port);
  } finally {
    await attach.close();
  }
}

describe('agent credentials', () => {
  it.each([
    ['a wrong secret', 'not-the-relay-secret', 'AUTH_FAILED'],
    ['no secret', undefined, 'no relay secret: pass secret=..., or set DBGRELAY_SECRET'],
  ])('refuses an agent with %s: clear message, nothing registered', async (_label, secret, expected) => {
    const debuggee = spawn({ relayUrl: relay.tcpsUrl, name: 'intruder', secret, caFile: relay.caFile, extraArgs: ['--wait-for-relay=3'] });
    expect(await debuggee.exited).toBe(2);
    expect(debuggee.output()).toContain(expected);
    expect((await listTargets(access)).map((t) => t.name)).not.toContain('intruder');
    if (secret) expect(debuggee.output()).not.toContain(secret);
  });
});

describe('with a connected target', () => {
  let debuggee: Debuggee;
  const name = 'web-failures';
  const bp = { path: webAppPath, lines: [{ line: markerLine('HANDLE') }] };

  beforeAll(async () => {
    debuggee = spawn({ relayUrl: relay.wssUrl, name, secret: relay.secret, caFile: relay.caFile });
    await waitForTargets(access, (t) => t.some((x) => x.name === name));
  });

  it.each([
    ['a wrong secret', 'wrong-secret-value', 'AUTH_FAILED'],
    ['no secret', '', 'AUTH_REQUIRED'],
  ])('refuses a client with %s before any DAP byte flows', async (_label, secret, code) => {
    for (const relayUrl of [relay.wssUrl, relay.tcpsUrl]) {
      const message = await refusalSeenByDapClient({ ...access, relayUrl, secret }, name);
      expect(message).toContain(code);
      if (secret) expect(message).not.toContain(secret);
    }
    const target = (await listTargets(access)).find((t) => t.name === name);
    expect(target?.sessions).toBe(0);
  });

  it('refuses an unknown target with a clear error', async () => {
    const message = await refusalSeenByDapClient(access, 'web-404');
    expect(message).toMatch(/no target named "web-404".*UNKNOWN_TARGET/);
    const error = await dialSession({
      endpoint: parseRelayEndpoint(relay.tcpsUrl),
      trust: caTrust(readFileSync(relay.caFile, 'utf8'), 'ca'),
      secret: relay.secret,
      target: 'web-404',
    }).catch((e: unknown) => e);
    expect(isRelayError(error, 'UNKNOWN_TARGET')).toBe(true);
  });

  it('resumes the program when the client drops while it is paused', async () => {
    const attach = await startAttach(access, name);
    try {
      const client = await attachSession(attach.address.port, { breakpoints: bp });
      await waitForStop(client, 'breakpoint');
      const mark = debuggee.outputLength();
      client.destroy();
      // Every thread runs again: the main loop, the worker thread and the asyncio task.
      await debuggee.waitForOutput(/tick \d+/, 10_000, mark);
      await debuggee.waitForOutput(/worker \d+/, 10_000, mark);
      await debuggee.waitForOutput(/async \d+/, 10_000, mark);
      // And the breakpoint went with the client: the program keeps ticking.
      const later = debuggee.outputLength();
      await debuggee.waitForOutput(/tick \d+\n(.|\n)*tick \d+\n(.|\n)*tick \d+/, 10_000, later);
    } finally {
      await attach.close();
    }
  });

  it('reconnects the agent after a relay restart, and the target is attachable again', async () => {
    const registeredBefore = (await listTargets(access)).find((t) => t.name === name)!.connectedAt;
    relay = await relay.restart();
    access = { ...access, relayUrl: relay.wssUrl };
    const [target] = (await waitForTargets(access, (t) => t.some((x) => x.name === name), 30_000)).filter((t) => t.name === name);
    expect(target!.connectedAt).not.toBe(registeredBefore);
    const attach = await startAttach(access, name);
    try {
      const client = await attachSession(attach.address.port, { breakpoints: bp });
      const { frame } = await waitForStop(client, 'breakpoint');
      expect(frame.name).toBe('handle_request');
      await client.request('disconnect', { terminateDebuggee: false });
      await client.close();
    } finally {
      await attach.close();
    }
  });

  it('never writes the secret to a log, an argv or an error', async () => {
    const secret = relay.secret;
    expect(relay.logText().length).toBeGreaterThan(0);
    expect(relay.logText()).not.toContain(secret);
    expect(readFileSync(debuggee.agentLogFile, 'utf8').length).toBeGreaterThan(0);
    expect(readFileSync(debuggee.agentLogFile, 'utf8')).not.toContain(secret);
    expect(debuggee.output()).not.toContain(secret);
    // argv of the debuggee and of every process it started (bridge, debugpy adapter).
    const argvs = debuggee.family().map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '));
    expect(argvs.some((argv) => argv.includes('dbgrelay.bridge'))).toBe(true);
    expect(argvs.some((argv) => argv.includes('debugpy/adapter'))).toBe(true);
    for (const argv of argvs) expect(argv).not.toContain(secret);
  });

  it('removes the target when the debuggee exits', async () => {
    debuggee.trigger('exit');
    expect(await debuggee.exited).toBe(0);
    await waitForTargets(access, (t) => !t.some((x) => x.name === name), 15_000);
  });
});
