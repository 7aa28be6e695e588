import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markerLine, startDebuggee, webAppPath, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { attachSession, evaluate, startAttach, waitForStop, waitForTargets, type ClientAccess } from '../support/relay/relayClient.js';

/**
 * The audit trail with the real relay, agent and debugpy (issue 5): the lines one
 * debug session must leave in `<dataDir>/audit.log`, its transcript, and no secret.
 */
let relay: E2eRelay;
let access: ClientAccess;
let debuggee: Debuggee;
const name = 'audit-app';

beforeAll(async () => {
  relay = await startE2eRelay({ overrides: { audit: { transcripts: { enabled: true } } } });
  access = { relayUrl: relay.wssUrl, caFile: relay.caFile, secret: relay.secret };
  debuggee = startDebuggee({ relayUrl: relay.wssUrl, name, secret: relay.secret, caFile: relay.caFile });
  await waitForTargets(access, (t) => t.some((x) => x.name === name), 30_000);
}, 60_000);

afterAll(async () => {
  debuggee?.kill();
  await relay?.stop();
});

function auditLines(): Array<Record<string, unknown>> {
  return readFileSync(join(relay.dataDir, 'audit.log'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('audit log', () => {
  it('records who attached, what they ran and changed, and when they left', async () => {
    const attach = await startAttach(access, name);
    try {
      const handle = markerLine('HANDLE');
      const client = await attachSession(attach.address.port, {
        breakpoints: {
          path: webAppPath,
          lines: [
            { line: handle, condition: 'n > 0' },
            { line: markerLine('RETURN'), logMessage: 'label={label}' },
          ],
        },
      });
      const { event, frame } = await waitForStop(client, 'breakpoint');
      expect(await evaluate(client, 'n * 2', frame.id)).toMatch(/^\d+$/);
      await client.request('setBreakpoints', { source: { path: webAppPath }, breakpoints: [] });
      await client.request<DebugProtocol.ContinueResponse>('continue', { threadId: event.body.threadId });
      await client.request('disconnect', { terminateDebuggee: false });
      await client.close();
    } finally {
      await attach.close();
    }
    // session.closed is written when the pipe has closed; give it a moment.
    for (let i = 0; i < 50 && !auditLines().some((l) => l['event'] === 'session.closed'); i++) await new Promise((r) => setTimeout(r, 50));

    const lines = auditLines();
    const session = lines.find((l) => l['event'] === 'session.opened')!;
    expect(session).toMatchObject({
      principal: 'relay-secret',
      method: 'secret',
      target: name,
      via: 'wss',
      policy: 'full',
      role: 'primary',
      client: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    });
    const mine = lines.filter((l) => l['session'] === session['session']);
    for (const line of mine) expect(Date.parse(String(line['time']))).not.toBeNaN();
    const requests = mine.filter((l) => l['event'] === 'dap.request');
    expect(requests.map((l) => l['command'])).toEqual(['attach', 'setBreakpoints', 'setExceptionBreakpoints', 'evaluate', 'setBreakpoints', 'continue', 'disconnect']);
    expect(requests[1]).toMatchObject({ source: webAppPath, breakpoints: [{ line: markerLine('HANDLE'), condition: 'n > 0' }, { logMessage: 'label={label}' }] });
    expect(requests[3]).toMatchObject({ expression: 'n * 2', context: 'repl' });
    expect(requests[6]).toMatchObject({ terminateDebuggee: false });
    // After a disconnect debugpy may close its side first.
    expect(mine.at(-1)).toMatchObject({ event: 'session.closed', closedBy: expect.stringMatching(/^(client|adapter)$/) });
    expect(mine.some((l) => l['event'] === 'session.detached')).toBe(false); // it said goodbye itself
    // Nothing the relay or agent were authenticated with appears.
    expect(readFileSync(join(relay.dataDir, 'audit.log'), 'utf8')).not.toContain(relay.secret);
  });

  it('keeps a full DAP transcript of the session, both directions, with timestamps', () => {
    const session = auditLines().find((l) => l['event'] === 'session.opened')!;
    const file = String(session['transcript']);
    expect(readdirSync(join(relay.dataDir, 'transcripts'))).toContain(`${String(session['session'])}.jsonl`);
    const transcript = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { t: string; dir: string; msg: { type: string; command?: string; event?: string } });
    expect(transcript.some((l) => l.dir === 'toAdapter' && l.msg.command === 'evaluate')).toBe(true);
    expect(transcript.some((l) => l.dir === 'toClient' && l.msg.event === 'stopped')).toBe(true);
    expect(transcript.every((l) => !Number.isNaN(Date.parse(l.t)))).toBe(true);
  });
});
