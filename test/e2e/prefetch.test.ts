import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttachServer } from '../../src/client/attachServer.js';
import { attachClientSeqBase } from '../../src/client/subprocessRewrite.js';
import { DapTestClient } from '../support/dap/dapTestClient.js';
import { vscodeAttach } from '../support/dap/vscodeSequence.js';
import { markerLine, startDebuggee, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { startAttach, waitForTargets, type ClientAccess } from '../support/relay/relayClient.js';

/**
 * Prefetch on stopped against a real debugpy: over hundreds of stops of a program
 * with four threads, every answer `dbgrelay attach` serves from what the bridge sent
 * ahead is compared, byte for byte except `seq` and `request_seq`, with what debugpy
 * answers to the same request at the same moment (asked right after, through the
 * relay: an answer sent ahead serves one request only). Requests that may change state
 * (`evaluate`, `next`, `continue`) must make everything sent ahead unusable.
 */
const app = join(import.meta.dirname, '..', 'fixtures', 'apps', 'ordersApp.py');
const orderLine = markerLine('ORDER', app);
const stepLine = markerLine('ORDER_STEP', app);
const stops = 200;

/** A response body with its two sequence numbers blanked, the rest as it arrived. */
function unsequenced(body: Buffer): string {
  return body.toString('utf8').replace(/^\{"seq": ?-?[0-9]+, ?"type": ?"response", ?"request_seq": ?[0-9]+/, '{"seq":0,"type":"response","request_seq":0');
}

/** JSON paths where `a` and `b` hold different values (or shapes). */
function differingPaths(a: unknown, b: unknown, path = '$', out: string[] = []): string[] {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) differingPaths((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`, out);
  } else if (a !== b) {
    out.push(path);
  }
  return out;
}

/**
 * How an answer sent ahead differs from debugpy's own answer to the same request at the
 * same moment, beyond what debugpy's answers differ in from one request to the next
 * (pydevd hands out a fresh reference for its "special variables" and "function
 * variables" groups on every request): empty when they are the same. `again` is debugpy's
 * answer to the request asked once more.
 */
function differenceBeyondDebugpy(ahead: Buffer, debugpy: Buffer, again: Buffer): string | undefined {
  const fresh = new Set(differingPaths(JSON.parse(unsequenced(debugpy)), JSON.parse(unsequenced(again))));
  const differing = differingPaths(JSON.parse(unsequenced(ahead)), JSON.parse(unsequenced(debugpy))).filter((path) => !fresh.has(path));
  if (differing.length > 0) return `differs at ${differing.join(', ')}`;
  // the same bytes once debugpy's fresh references are set aside: nothing else may differ in spelling
  const blank = (text: string): string => text.replace(/"variablesReference": [0-9]+/g, '"variablesReference": _');
  return blank(unsequenced(ahead)) === blank(unsequenced(debugpy)) ? undefined : 'differs in spelling';
}

const servedAhead = (response: DebugProtocol.Response): boolean => response.seq >= attachClientSeqBase;

let relay: E2eRelay;
let debuggee: Debuggee;
let access: ClientAccess;
const name = 'orders';

beforeAll(async () => {
  relay = await startE2eRelay();
  access = relay.access('tcps');
  debuggee = startDebuggee({ relayUrl: access.relayUrl, name, secret: relay.secret, caFile: relay.caFile, script: app });
  await waitForTargets(access, (targets) => targets.some((t) => t.name === name));
});
afterAll(async () => {
  debuggee?.kill();
  await relay?.stop();
});

describe('prefetch on stopped', () => {
  let attach: AttachServer;
  let client: DapTestClient;
  afterAll(async () => {
    await client?.close();
    await attach?.close();
  });

  it(`serves only answers identical to debugpy's over ${stops} stops of four threads, and none after a request that may change state`, async () => {
    attach = await startAttach(access, name, { prefetch: true });
    client = await DapTestClient.connect(attach.address.port);
    client.keepBodies = true;
    await vscodeAttach(client, { breakpoints: [{ path: app, lines: [orderLine] }] });

    let served = 0;
    let compared = 0;
    let steps = 0;
    let identical = 0;
    let stopsServed = 0;
    const threadsSeen = new Set<number>();
    const mismatches: string[] = [];
    /** Asks `command` twice: the first may be served ahead; the second is debugpy's answer at the same moment. */
    const askTwice = async (command: string, args: unknown): Promise<DebugProtocol.Response> => {
      const first = await client.requestWithBody(command, args);
      if (servedAhead(first.response)) {
        served++;
        const second = await client.requestWithBody(command, args);
        expect(servedAhead(second.response), `${command} served ahead twice`).toBe(false);
        compared++;
        if (unsequenced(first.body) === unsequenced(second.body)) {
          identical++;
        } else {
          // what debugpy's own answers differ in from one request to the next
          const third = await client.requestWithBody(command, args);
          const difference = differenceBeyondDebugpy(first.body, second.body, third.body);
          if (difference) mismatches.push(`${command} ${JSON.stringify(args)} ${difference}:\n ahead: ${first.body}\n debugpy: ${second.body}\n again: ${third.body}`);
        }
      }
      return first.response;
    };

    for (let stop = 0; stop < stops; stop++) {
      const stopped = await client.waitForEvent<DebugProtocol.StoppedEvent>('stopped', undefined, 30_000);
      const threadId = stopped.body.threadId!;
      threadsSeen.add(threadId);
      const before = served;
      // VS Code's first view, each request asked twice
      await askTwice('threads', undefined);
      const top = (await askTwice('stackTrace', { threadId, startFrame: 0, levels: 1 })) as DebugProtocol.StackTraceResponse;
      await askTwice('stackTrace', { threadId, startFrame: 1, levels: 19 });
      const frame = top.body.stackFrames[0]!;
      const scopes = (await askTwice('scopes', { frameId: frame.id })) as DebugProtocol.ScopesResponse;
      const locals = (await askTwice('variables', { variablesReference: scopes.body.scopes[0]!.variablesReference })) as DebugProtocol.VariablesResponse;
      // what a user expands next: the nested values (sent ahead in a second event, if it came already)
      for (const variable of locals.body.variables) {
        if (variable.variablesReference > 0) await askTwice('variables', { variablesReference: variable.variablesReference });
      }
      if (served > before) stopsServed++;
      // a reference only an answer sent ahead carries still works
      const group = locals.body.variables.find((v) => v.name === 'special variables');
      if (servedAhead(locals) && group) await client.request('variables', { variablesReference: group.variablesReference });

      if (stop % 10 === 3) {
        // evaluate may change state: nothing sent ahead may answer after it
        await client.request('evaluate', { expression: 'BOX.update(changes=BOX["changes"] + 1)', frameId: frame.id, context: 'repl' });
        const again = await client.request<DebugProtocol.VariablesResponse>('variables', { variablesReference: scopes.body.scopes[0]!.variablesReference });
        expect(servedAhead(again)).toBe(false);
      }
      if (stopped.body.reason === 'step') {
        // the stop after a step over the breakpoint line: its own answers, on the next line
        expect(frame.line).toBe(stepLine);
        expect(locals.body.variables.find((v) => v.name === 'total')?.value).toBe('3');
        steps++;
      }
      if (stop === stops - 1) await client.request('setBreakpoints', { source: { path: app }, breakpoints: [] });
      // every breakpoint stop is followed by a step's stop in the same thread, then the threads take turns
      if (stopped.body.reason === 'breakpoint' && stop < stops - 1) await client.request('next', { threadId });
      else await client.request('continue', { threadId });
    }

    expect(mismatches).toEqual([]);
    expect(threadsSeen.size).toBeGreaterThan(1);
    expect(steps).toBeGreaterThan(stops / 3);
    // first views are sent ahead unless the bridge's hold bound ran out (a loaded machine)
    expect(stopsServed).toBeGreaterThan(stops / 2);
    expect(compared).toBe(served);
    expect(served).toBeGreaterThan(stops * 4);
    // most answers carry no fresh reference at all: byte for byte the same
    expect(identical).toBeGreaterThan(served / 2);
    console.log(
      `prefetch: ${served} answers served ahead over ${stops} stops (${stopsServed} stops with some), ${identical} byte-identical to debugpy's, the rest differing only in debugpy's fresh references`,
    );
  }, 240_000);
});
