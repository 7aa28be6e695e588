import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DapRequestError, type DapTestClient } from '../support/dap/dapTestClient.js';
import { chaosDetachTimeoutMs, chaosRelaySettings, expectAttachableAgain, faultToResume, handleBreakpoint, pauseAtHandler } from '../support/harness/chaosKit.js';
import { startDebuggee, webAppPath, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { startRawRelayTunnel, type RawRelayTunnel } from '../support/relay/rawRelayTunnel.js';
import { waitForTargets } from '../support/relay/relayClient.js';

/**
 * The chaos suite, hostile request shapes: while the program is paused at a
 * breakpoint, the client sends one request that debugpy mishandles (its reader
 * misframes the stream, or its handler throws and never answers). The relay and the
 * bridge must keep such a request from wedging the debuggee: the client gets an error
 * response (or, for a header the relay will not pass on, its session ends), the test
 * disconnects, the program prints again within the bound (a `chaos:` line), and a new
 * session debugs it as usual.
 *
 * The client speaks to the relay through a raw tunnel (support/rawRelayTunnel.ts), not
 * through `dbgrelay attach`: a hostile client brings its own client, so what reaches
 * the relay is exactly the bytes the test writes.
 */
type Scheme = 'tcps' | 'wss';
/** How long a hostile request may go without an answer (or the end of its session). */
const hostileAnswerBoundMs = 5_000;
/** The request is answered or refused, the test disconnects, the relay or debugpy detaches. */
const hostileBoundMs = hostileAnswerBoundMs + chaosDetachTimeoutMs;
/** `seq` of the raw requests, far above the client's own. */
const rawSeq = 9001;

interface Paused {
  readonly client: DapTestClient;
  readonly tunnel: RawRelayTunnel;
  readonly debuggee: Debuggee;
}

/** Writes a `threads` request under `header(bodyLength)` and resolves with what came of it within the bound. */
async function sendUnderHeader({ client, tunnel }: Paused, header: (bodyLength: number) => string): Promise<string> {
  const body = JSON.stringify({ seq: rawSeq, type: 'request', command: 'threads' });
  tunnel.inject(Buffer.from(header(Buffer.byteLength(body)) + body, 'latin1'));
  const answered = new RegExp(`"request_seq":\\s*${rawSeq}\\b`);
  return vi
    .waitFor(
      () => {
        if (answered.test(tunnel.received())) return 'answered';
        if (client.isConnectionClosed) return 'session ended';
        throw new Error('no answer yet');
      },
      { timeout: hostileAnswerBoundMs, interval: 25 },
    )
    .catch(() => 'neither answered nor ended');
}

/** Sends `command` with `args` and resolves with what came of it within the bound. */
function sendRequest({ client }: Paused, command: string, args: unknown): Promise<string> {
  return client.request(command, args, hostileAnswerBoundMs).then(
    () => 'success response',
    (error: unknown) => (error instanceof DapRequestError ? 'error response' : `no response (${(error as Error).message})`),
  );
}

const rows: ReadonlyArray<{ name: string; schemes: readonly Scheme[]; expected: readonly string[]; send(paused: Paused): Promise<string> }> = [
  {
    name: 'a lower-case content-length header',
    schemes: ['tcps', 'wss'],
    // re-framed canonically, so debugpy answers it
    expected: ['answered'],
    send: (paused) => sendUnderHeader(paused, (n) => `content-length: ${n}\r\n\r\n`),
  },
  {
    name: 'a duplicated Content-Length header with two lengths',
    schemes: ['tcps', 'wss'],
    // ambiguous: never forwarded, the session ends like a client loss
    expected: ['session ended'],
    send: (paused) => sendUnderHeader(paused, (n) => `Content-Length: ${n}\r\nContent-Length: ${n + 40}\r\n\r\n`),
  },
  {
    name: 'setBreakpoints with `breakpoints` an object',
    schemes: ['tcps'],
    expected: ['error response'],
    send: (paused) => sendRequest(paused, 'setBreakpoints', { source: { path: webAppPath }, breakpoints: { line: handleBreakpoint.lines[0]!.line } }),
  },
  {
    // Valid DAP (`names` is a string array), odd for debugpy: answered either way, never left hanging.
    name: 'setExceptionBreakpoints with an exceptionOptions path of empty names',
    schemes: ['tcps'],
    expected: ['error response', 'success response'],
    send: (paused) => sendRequest(paused, 'setExceptionBreakpoints', { filters: [], exceptionOptions: [{ path: [{ names: [] }], breakMode: 'always' }] }),
  },
  {
    name: 'setExceptionBreakpoints with an exceptionOptions path segment without names',
    schemes: ['tcps'],
    expected: ['error response'],
    send: (paused) => sendRequest(paused, 'setExceptionBreakpoints', { filters: [], exceptionOptions: [{ path: [{}], breakMode: 'always' }] }),
  },
  {
    name: 'attach with processId',
    schemes: ['tcps'],
    expected: ['error response'],
    send: (paused) => sendRequest(paused, 'attach', { processId: paused.debuggee.process.pid }),
  },
  {
    name: 'attach with debugpyArgs',
    schemes: ['tcps'],
    expected: ['error response'],
    send: (paused) => sendRequest(paused, 'attach', { debugpyArgs: ['--log-to-stderr'] }),
  },
];

let relay: E2eRelay;
const debuggees: Debuggee[] = [];
beforeAll(async () => {
  relay = await startE2eRelay({ overrides: chaosRelaySettings });
});
afterAll(async () => {
  for (const debuggee of debuggees) debuggee.kill();
  await relay?.stop();
});

const cases = rows.flatMap((row, index) => row.schemes.map((scheme) => ({ ...row, scheme, target: `chaos-hostile-${index}-${scheme}` })));

describe.each(cases)('$name over $scheme', (row) => {
  it('does not wedge the debuggee: answered or refused, the program resumes after the disconnect, a new session works', async () => {
    const access = relay.access(row.scheme);
    const name = row.target;
    const debuggee = startDebuggee({ relayUrl: access.relayUrl, name, secret: access.secret, caFile: access.caFile });
    debuggees.push(debuggee);
    await waitForTargets(access, (targets) => targets.some((t) => t.name === name));
    const tunnel = await startRawRelayTunnel(access, name);
    try {
      const { client } = await pauseAtHandler(tunnel.port);
      let outcome = '';
      await faultToResume(debuggee, `hostile(${row.name})`, row.scheme, hostileBoundMs, async () => {
        outcome = await row.send({ client, tunnel, debuggee });
        if (!client.isConnectionClosed) {
          await client.request('disconnect', { terminateDebuggee: false }, hostileAnswerBoundMs).catch((error: unknown) => {
            if (!client.isConnectionClosed) throw error;
          });
        }
        await client.close();
      }).catch((error: unknown) => {
        throw new Error(`${(error as Error).message} (the hostile request: ${outcome || 'still pending'})`, { cause: error });
      });
      console.log(`chaos: hostile(${row.name}) ${row.scheme} outcome: ${outcome}`);
      expect(row.expected).toContain(outcome);
    } finally {
      await tunnel.close();
    }
    await expectAttachableAgain(access, name, debuggee);
    debuggee.kill();
  });
});
