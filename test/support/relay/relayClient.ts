import { readFileSync } from 'node:fs';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { startAttachServer, type AttachServer } from '../../../src/client/attachServer.js';
import type { ClientIdentity } from '../../../src/dial/clientIdentity.js';
import { fetchTargets } from '../../../src/dial/relayTargetList.js';
import { parseRelayEndpoint } from '../../../src/dial/relayEndpoint.js';
import { caTrust } from '../../../src/dial/tlsTrust.js';
import type { TargetInfo } from '../../../src/protocol/controlMessages.js';
import { DapRequestError, DapTestClient } from '../dap/dapTestClient.js';
import { startDebuggee, type Debuggee } from '../processes/debuggee.js';

/** How a test reaches the relay as a client: URL, CA file and secret. */
export interface ClientAccess {
  readonly relayUrl: string;
  readonly caFile: string;
  readonly secret: string;
  /** Client certificate for relays that ask for one (mTLS). */
  readonly identity?: ClientIdentity;
}

function dialOptions(access: ClientAccess) {
  return {
    endpoint: parseRelayEndpoint(access.relayUrl),
    trust: caTrust(readFileSync(access.caFile, 'utf8'), access.caFile),
    secret: access.secret,
    ...(access.identity ? { identity: access.identity } : {}),
  };
}

/** `dbgrelay targets`, as a library call. */
export function listTargets(access: ClientAccess): Promise<TargetInfo[]> {
  return fetchTargets(dialOptions(access));
}

/** Polls the target list until `predicate` holds for it. */
export async function waitForTargets(access: ClientAccess, predicate: (targets: TargetInfo[]) => boolean, timeoutMs = 20_000): Promise<TargetInfo[]> {
  const deadline = Date.now() + timeoutMs;
  let last: TargetInfo[] = [];
  for (;;) {
    try {
      last = await listTargets(access);
      if (predicate(last)) return last;
    } catch {
      // relay restarting: try again until the deadline
    }
    if (Date.now() > deadline) throw new Error(`target list never matched; last: ${JSON.stringify(last.map((t) => t.name))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts the end-to-end web app under the agent as target `name` of the relay that
 * `access` reaches, and resolves once the relay lists it.
 */
export async function startListedDebuggee(access: ClientAccess, name: string): Promise<Debuggee> {
  const debuggee = startDebuggee({ relayUrl: access.relayUrl, name, secret: access.secret, caFile: access.caFile });
  await waitForTargets(access, (targets) => targets.some((t) => t.name === name));
  return debuggee;
}

/**
 * Whether sessions of {@link startAttach} ask for answers sent ahead on each stop
 * (`dbgrelay attach`'s default): `DBGRELAY_TEST_PREFETCH=0` runs the end-to-end suite
 * with it off (`npm run test:e2e:no-prefetch`).
 */
export const testPrefetch = process.env['DBGRELAY_TEST_PREFETCH'] !== '0';

/** `dbgrelay attach <target> --port 0 [--takeover] [--no-prefetch]`, as a library call. */
export function startAttach(access: ClientAccess, target: string, options: { takeover?: boolean; prefetch?: boolean } = {}): Promise<AttachServer> {
  return startAttachServer({ ...dialOptions(access), target, port: 0, ...(options.takeover ? { takeover: true } : {}), prefetch: options.prefetch ?? testPrefetch });
}

/**
 * The DAP handshake VS Code performs for an attach: initialize, attach (answered only
 * after configurationDone), breakpoints, configurationDone. Returns the client once
 * the attach response arrived.
 */
export async function attachSession(
  port: number,
  options: {
    attachArguments?: Record<string, unknown>;
    breakpoints?: { path: string; lines: DebugProtocol.SourceBreakpoint[] };
    exceptionFilters?: string[];
    client?: DapTestClient;
  } = {},
): Promise<DapTestClient> {
  const client = options.client ?? (await DapTestClient.connect(port));
  await client.request('initialize', {
    clientID: 'dbgrelay-e2e',
    adapterID: 'debugpy',
    pathFormat: 'path',
    linesStartAt1: true,
    columnsStartAt1: true,
    supportsStartDebuggingRequest: true,
    supportsRunInTerminalRequest: false,
  });
  const attached = client.request('attach', { justMyCode: false, subProcess: true, ...options.attachArguments }, 20_000);
  await client.waitForEvent('initialized', undefined, 20_000);
  if (options.breakpoints) {
    await client.request('setBreakpoints', { source: { path: options.breakpoints.path }, breakpoints: options.breakpoints.lines });
  }
  await client.request('setExceptionBreakpoints', { filters: options.exceptionFilters ?? [] });
  await client.request('configurationDone', {});
  await attached;
  return client;
}

/** Waits for a `stopped` event and returns it with the stopped thread's top frame. */
export async function waitForStop(client: DapTestClient, reason?: string, timeoutMs = 15_000): Promise<{ event: DebugProtocol.StoppedEvent; frame: DebugProtocol.StackFrame }> {
  const event = await client.waitForEvent<DebugProtocol.StoppedEvent>('stopped', (e) => reason === undefined || e.body.reason === reason, timeoutMs);
  const trace = await client.request<DebugProtocol.StackTraceResponse>('stackTrace', { threadId: event.body.threadId, startFrame: 0, levels: 20 });
  return { event, frame: trace.body.stackFrames[0]! };
}

/** Evaluates `expression` in `frameId` and returns the result text. */
export async function evaluate(client: DapTestClient, expression: string, frameId: number): Promise<string> {
  const response = await client.request<DebugProtocol.EvaluateResponse>('evaluate', { expression, frameId, context: 'repl' });
  return response.body.result;
}

/**
 * The DAP error a client of a `dbgrelay attach` port gets when the relay refuses the
 * session: its first request fails with a DAP error response and the connection closes.
 */
export async function refusalSeenOnPort(port: number): Promise<string> {
  const client = await DapTestClient.connect(port);
  const error = await client.request('initialize', { adapterID: 'debugpy' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DapRequestError)) throw new Error(`expected a DAP error response, got ${String(error)}`);
  await client.closed;
  return error.message;
}
