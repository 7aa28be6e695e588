import { dirname } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markerLine, webAppPath } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { freeLoopbackPort, startListeningDebuggee, type ListeningDebuggee } from '../support/processes/listeningDebuggee.js';
import { attachSession, evaluate, listTargets, refusalSeenOnPort, startAttach, waitForStop, type ClientAccess } from '../support/relay/relayClient.js';

/**
 * Sidecar targets (`targets.<name>.url: tcp://127.0.0.1:PORT`): the relay dials a
 * debugpy that listens on loopback beside it, with no agent in the debuggee. A real
 * debugpy, a real DAP client through `dbgrelay attach`, over wss and tcps.
 */
const localRoot = '/local/project';
const attachArguments = { pathMappings: [{ localRoot, remoteRoot: dirname(webAppPath) }] };

let relay: E2eRelay;
let debuggee: ListeningDebuggee;
let deadPort: number;

beforeAll(async () => {
  debuggee = await startListeningDebuggee();
  deadPort = await freeLoopbackPort();
  relay = await startE2eRelay({
    overrides: {
      targets: {
        side: { url: `tcp://127.0.0.1:${debuggee.port}`, labels: { role: 'sidecar' } },
        gone: { url: `tcp://127.0.0.1:${deadPort}` },
      },
    },
  });
});
afterAll(async () => {
  await relay?.stop();
  debuggee?.kill();
});

const access = (scheme: 'wss' | 'tcps'): ClientAccess => ({ relayUrl: scheme === 'wss' ? relay.wssUrl : relay.tcpsUrl, caFile: relay.caFile, secret: relay.secret });

describe('sidecar targets', () => {
  it('are listed before anyone attached, as tcp targets not tried yet', async () => {
    const targets = await listTargets(access('tcps'));
    const side = targets.find((t) => t.name === 'side');
    expect(side).toMatchObject({ kind: 'tcp', transport: 'tcp', host: '127.0.0.1', address: `tcp://127.0.0.1:${debuggee.port}`, labels: { role: 'sidecar' } });
    expect(side).not.toHaveProperty('reachable');
    expect(side).not.toHaveProperty('pid');
  });

  it.each(['wss', 'tcps'] as const)('give a full debugging session over %s, and the program runs on after disconnect', async (scheme) => {
    const attach = await startAttach(access(scheme), 'side');
    try {
      const client = await attachSession(attach.address.port, {
        attachArguments,
        breakpoints: { path: `${localRoot}/webApp.py`, lines: [{ line: markerLine('HANDLE') }] },
      });
      const { frame } = await waitForStop(client, 'breakpoint');
      expect(frame.line).toBe(markerLine('HANDLE'));
      expect(frame.source?.path).toBe(`${localRoot}/webApp.py`);
      const n = Number(await evaluate(client, 'n', frame.id));
      expect(await evaluate(client, 'n * 2', frame.id)).toBe(String(n * 2));
      await client.request('setBreakpoints', { source: { path: `${localRoot}/webApp.py` }, breakpoints: [] });
      const threads = await client.request<DebugProtocol.ThreadsResponse>('threads');
      await client.request('continue', { threadId: threads.body.threads[0]!.id });
      await client.request('disconnect', { terminateDebuggee: false });
      await client.close();
      const from = debuggee.output().length;
      await debuggee.waitForOutput(/tick \d+/, from);
    } finally {
      await attach.close();
    }
    const side = (await listTargets(access(scheme))).find((t) => t.name === 'side');
    expect(side).toMatchObject({ reachable: true, sessions: 0 });
  });

  it('reports a target whose debugpy is not listening: a clear refusal, and unreachable in the list', async () => {
    const attach = await startAttach(access('tcps'), 'gone');
    try {
      const message = await refusalSeenOnPort(attach.address.port);
      expect(message).toMatch(/AGENT_OPEN_FAILED/);
      expect(message).toContain(`127.0.0.1:${deadPort}`);
      expect(message).toMatch(/ECONNREFUSED/);
    } finally {
      await attach.close();
    }
    const gone = (await listTargets(access('tcps'))).find((t) => t.name === 'gone');
    expect(gone).toMatchObject({ kind: 'tcp', reachable: false });
    expect(gone?.detail).toMatch(/not reachable/);
    // the relay still serves the healthy sidecar
    expect((await listTargets(access('wss'))).map((t) => t.name)).toEqual(['gone', 'side']);
  });
});
