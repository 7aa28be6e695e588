import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAudit } from '../../src/cli/auditCommand.js';
import { dialSession } from '../../src/dial/relayDialer.js';
import { parseRelayEndpoint } from '../../src/dial/relayEndpoint.js';
import { caTrust } from '../../src/dial/tlsTrust.js';
import { DapFramer, encodeDapMessage } from '../../src/dap/dapFramer.js';
import { parseDapMessage, type DapMessage } from '../../src/dap/dapMessage.js';
import { DapRequestError, DapTestClient } from '../support/dap/dapTestClient.js';
import { markerLine, startDebuggee, webAppPath, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { FakeAgent as ProtocolAgent } from '../support/fakes/fakeAgent.js';
import type { Link } from '../support/relay/relayLinks.js';
import { attachSession, evaluate, startAttach, waitForStop, waitForTargets, type ClientAccess } from '../support/relay/relayClient.js';

/**
 * One debugger per target, the admin takeover, the relay's `runInTerminal` refusal
 * (a fake agent stands in for a hostile remote side) and the subprocess sessions of
 * the holder, end to end with the real relay, agent and debugpy (issue 5), and the
 * audit lines each leaves.
 */
let relay: E2eRelay;
let admin: ClientAccess;
let holderAccess: ClientAccess;
const started: Debuggee[] = [];
const attachServers: Array<{ close(): Promise<void> }> = [];
const clients: DapTestClient[] = [];
const handle = markerLine('HANDLE');
const attachSecret = 'takeover-app-attach-secret-0123456789';

type AuditLine = Record<string, unknown>;

function auditLines(): AuditLine[] {
  return readFileSync(join(relay.dataDir, 'audit.log'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditLine);
}

/** Waits until the audit log has a line matching `predicate` (records of closing sessions come a little later). */
async function auditLine(predicate: (line: AuditLine) => boolean, timeoutMs = 5_000): Promise<AuditLine> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = auditLines().find(predicate);
    if (found) return found;
    if (Date.now() > deadline)
      throw new Error(
        `no audit line matched; last lines:\n${auditLines()
          .slice(-8)
          .map((l) => JSON.stringify(l))
          .join('\n')}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function attachPort(access: ClientAccess, target: string, takeover = false): Promise<number> {
  const server = await startAttach(access, target, { takeover });
  attachServers.push(server);
  return server.address.port;
}

async function refusalOf(port: number): Promise<string> {
  const client = await DapTestClient.connect(port);
  const error = await client.request('initialize', { adapterID: 'debugpy' }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DapRequestError);
  await client.closed;
  return String((error as DapRequestError).response.message);
}

let app: Debuggee;
let mp: Debuggee;

beforeAll(async () => {
  relay = await startE2eRelay();
  admin = { relayUrl: relay.wssUrl, caFile: relay.caFile, secret: relay.secret }; // principal relay-secret (admin)
  holderAccess = { relayUrl: relay.tcpsUrl, caFile: relay.caFile, secret: attachSecret }; // attach-secret:take-app (no admin)
  const agentUrl = relay.tcpsUrl.replace('://', `://${relay.secret}@`);
  app = startDebuggee({ relayUrl: agentUrl, name: 'take-app', secret: attachSecret, caFile: relay.caFile });
  mp = startDebuggee({ relayUrl: agentUrl, name: 'take-mp', secret: undefined, caFile: relay.caFile });
  started.push(app, mp);
  await waitForTargets(admin, (t) => ['take-app', 'take-mp'].every((n) => t.some((x) => x.name === n)), 30_000);
}, 60_000);

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  for (const server of attachServers) await server.close().catch(() => undefined);
  for (const debuggee of started) debuggee.kill();
  await relay?.stop();
});

describe('one debugger per target and the admin takeover', () => {
  let holder: DapTestClient;
  let holderThread: number;

  it('refuses a second debugger with TARGET_BUSY naming the holder, and a takeover without the admin grant', async () => {
    holder = await attachSession(await attachPort(holderAccess, 'take-app'), { breakpoints: { path: webAppPath, lines: [{ line: handle }] } });
    clients.push(holder);
    holderThread = (await waitForStop(holder, 'breakpoint')).event.body.threadId!;

    const busy = await refusalOf(await attachPort(admin, 'take-app'));
    expect(busy).toMatch(/^dbgrelay: relay refused: target "take-app" is being debugged by attach-secret:take-app since \d{4}-\d\d-\d\dT[\d:.]+Z \(TARGET_BUSY\)$/);
    const notAdmin = await refusalOf(await attachPort({ ...holderAccess, relayUrl: relay.wssUrl }, 'take-app', true));
    expect(notAdmin).toBe('dbgrelay: relay refused: taking a target over needs the admin grant (AUTH_FAILED)');

    const refused = auditLines().filter((l) => l['event'] === 'session.refused' && l['target'] === 'take-app');
    expect(refused).toEqual([
      expect.objectContaining({ principal: 'relay-secret', via: 'wss', code: 'TARGET_BUSY', reason: expect.stringContaining('attach-secret:take-app since') }),
      expect.objectContaining({ principal: 'attach-secret:take-app', via: 'wss', code: 'AUTH_FAILED' }),
    ]);
    // The holder is undisturbed, still stopped at its breakpoint.
    const { body } = await holder.request<DebugProtocol.StackTraceResponse>('stackTrace', { threadId: holderThread });
    expect(body.stackFrames[0]!.line).toBe(handle);
  });

  it('lets an admin take over: the holder is told and detached, the program runs on, the admin debugs', async () => {
    const mark = app.outputLength();
    const takeover = await attachSession(await attachPort({ ...admin, relayUrl: relay.tcpsUrl }, 'take-app', true));
    clients.push(takeover);
    await holder.closed;
    const told = holder.events.find((e) => e.event === 'output' && String((e as DebugProtocol.OutputEvent).body.output).includes('administrator took this target over'));
    expect(told).toBeDefined();
    // The holder's breakpoint is gone and the paused program runs again.
    await app.waitForOutput(/tick \d+\n(.|\n)*tick \d+/, 10_000, mark);
    await takeover.request('setBreakpoints', { source: { path: webAppPath }, breakpoints: [{ line: handle }] });
    const { event, frame } = await waitForStop(takeover, 'breakpoint');
    expect(frame.line).toBe(handle);
    expect(await evaluate(takeover, 'n * 0 + 7', frame.id)).toBe('7');
    await takeover.request('setBreakpoints', { source: { path: webAppPath }, breakpoints: [] });
    await takeover.request('continue', { threadId: event.body.threadId });
    await takeover.request('disconnect', { terminateDebuggee: false });
    await takeover.close();

    const lines = auditLines();
    const index = (predicate: (l: AuditLine) => boolean): number => lines.findIndex(predicate);
    const holderSession = lines.find((l) => l['event'] === 'session.opened' && l['principal'] === 'attach-secret:take-app')!['session'];
    const detached = index((l) => l['event'] === 'session.detached' && l['session'] === holderSession);
    const closed = index((l) => l['event'] === 'session.closed' && l['session'] === holderSession);
    const takenOver = index((l) => l['event'] === 'session.takenOver');
    const opened = index((l) => l['event'] === 'session.opened' && l['principal'] === 'relay-secret' && l['target'] === 'take-app');
    expect(lines[detached]).toMatchObject({ outcome: 'detached', target: 'take-app' });
    expect(lines[takenOver]).toMatchObject({ principal: 'relay-secret', target: 'take-app', via: 'tcps', from: 'attach-secret:take-app', heldSince: expect.stringMatching(/Z$/) });
    expect(lines[opened]).toMatchObject({ role: 'primary', tookOverFrom: 'attach-secret:take-app', policy: 'full' });
    expect(detached).toBeGreaterThanOrEqual(0);
    expect(closed).toBeGreaterThan(detached);
    expect(takenOver).toBeGreaterThan(detached);
    expect(opened).toBeGreaterThan(takenOver);
    const newSession = lines[opened]!['session'];
    const evaluated = await auditLine((l) => l['session'] === newSession && l['command'] === 'evaluate');
    expect(evaluated).toMatchObject({ event: 'dap.request', expression: 'n * 0 + 7' });

    // `dbgrelay audit` shows the takeover readably.
    const shown: string[] = [];
    await runAudit({ file: join(relay.dataDir, 'audit.log'), target: 'take-app', principal: 'relay-secret' }, (line) => void shown.push(line));
    expect(shown.some((l) => /relay-secret +take-app +session\.takenOver .*from=attach-secret:take-app/.test(l))).toBe(true);
    expect(shown.some((l) => /dap\.request evaluate +expression="n \* 0 \+ 7"/.test(l))).toBe(true);
    expect(shown.length).toBeGreaterThan(3);
    expect(shown.every((l) => /^\S+Z {2}relay-secret +take-app /.test(l))).toBe(true); // filtered by principal and target
  });
});

/** DAP messages in the bytes a fake agent's data link received. */
function dapMessages(link: Link): DapMessage[] {
  const framer = new DapFramer(1 << 20);
  return framer.push(link.bytes()).map(({ body }) => parseDapMessage(body));
}

describe('reverse requests from a hostile remote side', () => {
  it('never forwards runInTerminal to the client; the agent gets an error response; the refusal is audited', async () => {
    const ca = readFileSync(relay.caFile, 'utf8');
    const endpoints = { wssPort: relay.handle.wssAddress!.port, tcpsPort: relay.handle.tcpsAddress!.port, ca };
    const agent = await ProtocolAgent.start(endpoints, { via: 'wss', credential: { secret: relay.secret }, name: 'evil-agent', agentId: 'evil-1' });
    try {
      // A raw DAP client straight on the relay session (no `dbgrelay attach`, which refuses
      // runInTerminal on its own): what it receives is what the relay forwards.
      const client = await dialSession({ endpoint: parseRelayEndpoint(relay.wssUrl), target: 'evil-agent', trust: caTrust(ca, relay.caFile), secret: relay.secret });
      const framer = new DapFramer(1 << 20);
      const atClient: DapMessage[] = [];
      client.onData((chunk) => atClient.push(...framer.push(chunk).map(({ body }) => parseDapMessage(body))));
      client.send(encodeDapMessage({ seq: 1, type: 'request', command: 'initialize', arguments: { adapterID: 'debugpy', supportsRunInTerminalRequest: true } }));
      await expect.poll(() => agent.dataLinks[0] && dapMessages(agent.dataLinks[0]).some((m) => m.type === 'request'), { timeout: 10_000 }).toBe(true);
      const data = agent.dataLinks[0]!;
      const initialize = dapMessages(data).find((m) => m.type === 'request') as DebugProtocol.Request;
      expect(initialize.command).toBe('initialize');
      data.send(encodeDapMessage({ seq: 1, type: 'request', command: 'runInTerminal', arguments: { kind: 'external', cwd: '/', args: ['sh', '-c', 'id > /tmp/pwned'] } }));
      data.send(encodeDapMessage({ seq: 2, type: 'event', event: 'output', body: { category: 'console', output: 'after runInTerminal\n' } }));
      data.send(encodeDapMessage({ seq: 3, type: 'response', request_seq: initialize.seq, command: 'initialize', success: true, body: {} }));
      await expect.poll(() => atClient.length, { timeout: 5_000 }).toBe(2);
      // Everything the agent sent after runInTerminal arrived, in order; runInTerminal did not.
      expect(atClient).toEqual([
        { seq: 2, type: 'event', event: 'output', body: { category: 'console', output: 'after runInTerminal\n' } },
        { seq: 3, type: 'response', request_seq: 1, command: 'initialize', success: true, body: {} },
      ]);
      await expect
        .poll(() => dapMessages(data).find((m) => m.type === 'response'), { timeout: 5_000 })
        .toMatchObject({
          type: 'response',
          request_seq: 1,
          command: 'runInTerminal',
          success: false,
          message: 'dbgrelay: runInTerminal from the remote side is never forwarded to the client',
        });
      const refusal = await auditLine((l) => l['event'] === 'dap.refused' && l['target'] === 'evil-agent');
      expect(refusal).toMatchObject({ principal: 'relay-secret', direction: 'toClient', command: 'runInTerminal', reason: expect.stringContaining('never forwarded') });
      // The hostile arguments are not recorded, let alone run.
      expect(JSON.stringify(refusal)).not.toContain('pwned');
      client.close();
    } finally {
      agent.close();
    }
  });
});

describe('subprocess sessions of the holder', () => {
  it('debugs a real multiprocessing child; the audit log shows the announcement and the secondary session', async () => {
    const port = await attachPort({ ...admin, relayUrl: relay.tcpsUrl }, 'take-mp');
    const main = await attachSession(port);
    clients.push(main);
    const children: Array<Promise<DapTestClient>> = [];
    const announced: number[] = [];
    const childStopped = new Promise<{ child: DapTestClient; stop: Awaited<ReturnType<typeof waitForStop>> }>((resolve, reject) => {
      main.onReverseRequest('startDebugging', (request) => {
        const configuration = (request.arguments as DebugProtocol.StartDebuggingRequestArguments).configuration as { connect: { port: number }; subProcessId: number };
        announced.push(configuration.subProcessId);
        const child = attachSession(configuration.connect.port, { attachArguments: configuration, breakpoints: { path: webAppPath, lines: [{ line: markerLine('CHILD') }] } });
        children.push(child);
        child.then(
          (c) =>
            waitForStop(c, 'breakpoint', 20_000).then(
              (stop) => resolve({ child: c, stop }),
              () => undefined,
            ),
          reject,
        );
        return {};
      });
    });
    mp.trigger('spawn');
    const { child, stop } = await childStopped;
    try {
      expect(await evaluate(child, 'value', stop.frame.id)).toBe('41');
      const mark = mp.outputLength();
      await child.request('continue', { threadId: stop.event.body.threadId });
      await mp.waitForOutput(/child value 42/, 15_000, mark);
    } finally {
      for (const pending of children)
        await pending.then(
          (c) => c.close(),
          () => undefined,
        );
    }
    await main.request('disconnect', { terminateDebuggee: false });
    await main.close();

    const lines = auditLines().filter((l) => l['target'] === 'take-mp');
    const mainSession = lines.find((l) => l['event'] === 'session.opened' && l['role'] === 'primary')!['session'];
    const subprocess = lines.filter((l) => l['event'] === 'dap.subprocess');
    expect(subprocess.length).toBeGreaterThanOrEqual(1);
    for (const line of subprocess) expect(line).toMatchObject({ session: mainSession, principal: 'relay-secret', via: 'startDebugging' });
    expect(subprocess.map((l) => l['subProcessId'])).toEqual(announced);
    // Each child connection is a secondary session of the holder whose attach names an announced subprocess.
    const secondary = lines.filter((l) => l['event'] === 'session.opened' && l['role'] === 'secondary');
    expect(secondary.length).toBeGreaterThanOrEqual(1);
    const childAttaches = lines.filter((l) => l['event'] === 'dap.request' && l['command'] === 'attach' && l['session'] !== mainSession);
    expect(childAttaches.length).toBeGreaterThanOrEqual(1);
    for (const line of childAttaches) {
      expect(secondary.map((s) => s['session'])).toContain(line['session']);
      expect(announced).toContain(line['subProcessId']);
    }
    const childEvaluate = lines.find((l) => l['command'] === 'evaluate' && l['expression'] === 'value');
    expect(secondary.map((s) => s['session'])).toContain(childEvaluate?.['session']);
    expect(lines.some((l) => l['event'] === 'dap.refused' || l['event'] === 'session.refused')).toBe(false);
  });
});
