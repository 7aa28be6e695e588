import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { DapTestClient } from '../../test/support/dap/dapTestClient.js';
import { markerLine, startDebuggee, type Debuggee } from '../../test/support/processes/debuggee.js';

/** The benchmarks' debuggee: a loop that calls serve() with a breakpoint line. */
export const benchApp = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'benchApp.py');
const breakpointLine = markerLine('BENCH', benchApp);

/** Starts benchApp.py under the agent and returns it with its debugpy adapter port (from the agent's log). */
export async function startAgentDebuggee(relayUrl: string, name: string, relay: { secret: string; caFile: string }): Promise<{ debuggee: Debuggee; adapterPort: number }> {
  const debuggee = startDebuggee({ relayUrl, name, secret: relay.secret, caFile: relay.caFile, script: benchApp, scriptArgs: ['agent'] });
  const line = await debuggee.waitForOutput(/debugpy adapter listening on 127\.0\.0\.1:(\d+)/);
  return { debuggee, adapterPort: Number(/:(\d+)/.exec(line)![1]) };
}

/** Attaches through `port` with a breakpoint in benchApp.py and waits until the program stops there. */
export async function attachStoppedAtBreakpoint(port: number): Promise<{ client: DapTestClient; stopped: DebugProtocol.StoppedEvent }> {
  const client = await DapTestClient.connect(port);
  await client.request('initialize', { clientID: 'bench', adapterID: 'debugpy' });
  const attached = client.request('attach', { justMyCode: false });
  await client.waitForEvent('initialized');
  await client.request('setBreakpoints', { source: { path: benchApp }, breakpoints: [{ line: breakpointLine }] });
  await client.request('configurationDone');
  await attached;
  const stopped = await client.waitForEvent<DebugProtocol.StoppedEvent>('stopped', undefined, 15_000);
  return { client, stopped };
}

/** Ends a session from {@link attachStoppedAtBreakpoint}: clears the breakpoint and detaches, so the program runs on. */
export async function detachFromBreakpoint(client: DapTestClient): Promise<void> {
  await client.request('setBreakpoints', { source: { path: benchApp }, breakpoints: [] });
  await client.request('disconnect', { terminateDebuggee: false });
  await client.close();
}
