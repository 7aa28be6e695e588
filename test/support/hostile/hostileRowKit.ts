import { encodeDapMessage } from '../../../src/dap/dapFramer.js';
import { helloBytes, helloProbe, httpProbe, type Outcome, type RawRequest } from './hostileProbes.js';
import { agentId, signedToken, type HostileRelay, type TokenShape } from './hostileRelay.js';
import { agentAttempt, registerMessage, type FakeAgent } from '../fakes/fakeAgent.js';
import { isOutcome, openTcpsLink, openWebSocketLink, type Link, type PeerCredential } from '../relay/relayLinks.js';

/**
 * What the rows of the hostile-input table (test/e2e/hostileInputs.test.ts) are made
 * of: the row type, expected-outcome builders, and the probes bound to the relay under
 * attack. The rows themselves are in hostileAuthRows.ts and hostileProtocolRows.ts.
 */

/** One row: what is sent, and the refusal expected. */
export interface HostileRow {
  readonly group: string;
  readonly name: string;
  readonly run: () => Promise<Outcome>;
  /** Fields the outcome must have (kind, status, code, detail). */
  readonly expect: Partial<Outcome>;
  /** The refusal's message must match (it names the failed check). */
  readonly why?: RegExp;
  /** The row opens a session with a legitimate agent on purpose (session-id rows). */
  readonly opensSession?: boolean;
}

/** What the rows act on: the relay and its two legitimate agents. */
export interface RowContext {
  readonly h: HostileRelay;
  /** `web-1`: wss, JWT `register:web-*` (sub `agent-web`), with an attach secret. */
  readonly web1: FakeAgent;
  readonly web1AgentId: string;
  readonly web1AttachSecret: string;
  /** `web-2`: tcps, relay secret. */
  readonly web2: FakeAgent;
  readonly web2AgentId: string;
}

/** An HTTP header line: name, value. */
export type Header = readonly [string, string];
/** `Authorization: Bearer <token>`. */
export const bearer = (token: string): Header[] => [['Authorization', `Bearer ${token}`]];
/** `Authorization: Basic base64("<secret>:")`, as a `secret@` URL sends it. */
export const basic = (secret: string): Header[] => [['Authorization', `Basic ${Buffer.from(`${secret}:`).toString('base64')}`]];
/** Expected: an HTTP refusal with `status` (and the JSON error `code`, when given). */
export const http = (status: number, code?: string): Partial<Outcome> => ({ kind: 'http', status, ...(code ? { code } : {}) });
/** Expected: a tcps hello reply with error `code`. */
export const hello = (code: string): Partial<Outcome> => ({ kind: 'hello', code });
/** Expected: an `error` control message with `code` after the upgrade or hello. */
export const control = (code: string): Partial<Outcome> => ({ kind: 'control', code });
/** Expected: the relay refuses the TLS version with a `protocol_version` alert. */
export const tlsAlert: Partial<Outcome> = { kind: 'tls', detail: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' };
/** Expected: the relay closes without answering in HTTP or JSON. */
export const closedSilently: Partial<Outcome> = { kind: 'closed', detail: 'closed' };

/** Groups of rows under one heading. */
export class RowTable {
  readonly rows: HostileRow[] = [];

  add(group: string, list: Array<Omit<HostileRow, 'group'>>): this {
    for (const row of list) this.rows.push({ group, ...row });
    return this;
  }
}

/** The probes rows use, bound to the relay of `c`. */
export function rowKit(c: RowContext) {
  const { h } = c;
  const secret = h.relay.secret;
  const upgrade = (path: string, headers: Header[] = [], method = 'GET'): Promise<Outcome> => httpProbe(h.wss, { path, headers, upgrade: true, method });
  const attachWss = (headers: Header[], target = 'web-1'): Promise<Outcome> => upgrade(`/v1/attach/${target}`, headers);
  const request = (r: RawRequest | string): Promise<Outcome> => httpProbe(h.wss, r);
  const helloLine = (line: Record<string, unknown>): Promise<Outcome> => helloProbe(h.tcps, helloBytes(line));
  const token = (shape?: TokenShape, alg?: string, key?: Parameters<typeof signedToken>[3]): Promise<string> => signedToken(h, shape, alg, key);
  const register = (via: 'wss' | 'tcps', cred: PeerCredential, name: string, id = agentId(), extra: Record<string, unknown> = {}): Promise<Outcome> =>
    agentAttempt(h.endpoints, via, cred, [registerMessage(name, id, extra)]);
  const mallory = (): Promise<string> => token({ sub: 'mallory', scope: 'register:web-*' });
  const fakeSessionId = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

  return { h, secret, upgrade, attachWss, request, helloLine, token, register, mallory, fakeSessionId };
}

/** Sends one DAP request over `link` (client side of a session). */
export function sendDap(link: Link, seq: number, command: string, args: Record<string, unknown> = {}): void {
  link.send(encodeDapMessage({ seq, type: 'request', command, arguments: args }));
}

/** Opens a legitimate client session (wss or tcps); throws when refused. */
export async function legitimateSession(h: HostileRelay, via: 'wss' | 'tcps', target: string, cred: PeerCredential): Promise<Link> {
  const link = via === 'wss' ? await openWebSocketLink(h.endpoints, `/v1/attach/${target}`, cred) : await openTcpsLink(h.endpoints, { op: 'attach', target }, cred);
  if (isOutcome(link)) throw new Error(`legitimate ${via} session with ${target} refused: ${JSON.stringify(link)}`);
  return link;
}
