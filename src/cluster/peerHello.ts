import { z } from 'zod';
import { parseBoundedJson } from '../common/jsonDepth.js';
import { RelayError, isRelayErrorCode, type RelayErrorCode } from '../common/relayError.js';
import type { Principal } from '../auth/principal.js';

/** Bound on a peer hello line or its answer, newline included. */
export const maxPeerHelloBytes = 64 * 1024;

const pattern = z.string().min(1).max(256);

const principalFields = z.strictObject({
  id: z.string().min(1).max(1024),
  grants: z.strictObject({ register: z.array(pattern).max(1000), attach: z.array(pattern).max(1000), admin: z.boolean() }),
  method: z.enum(['secret', 'attachSecret', 'jwt', 'certificate']),
  expiresAt: z.number().int().optional(),
});

/**
 * What every peer hello carries: the version, the instance that received the
 * connection and authenticated it, the principal it authenticated, and the peer's
 * heartbeat interval when it sends heartbeats (the receiving instance watches the
 * link's silence by it).
 */
const helloFields = {
  v: z.literal(1),
  from: z.string().min(1).max(64),
  principal: principalFields,
  heartbeatMs: z.number().int().min(1).max(86_400_000).optional(),
};

const forwardHello = z.strictObject({
  op: z.literal('forward'),
  ...helloFields,
  target: z.string().min(1).max(512),
  via: z.enum(['wss', 'tcps']),
  clientAddress: z.string().min(1).max(256),
  takeover: z.boolean(),
  /** With an attach-secret principal: the digest (shared form) the forwarder checked the secret against. */
  attachSecret: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

const agentDataHello = z.strictObject({
  op: z.literal('agentData'),
  ...helloFields,
  sessionId: z.string().min(1).max(128),
});

/** A session an instance forwards to the instance holding its target (docs/architecture.md "Several relays"). */
export type ForwardHello = z.infer<typeof forwardHello>;

/** An agent data connection that landed on another instance than the one that asked for it. */
export type AgentDataHello = z.infer<typeof agentDataHello>;

/** What a peer may send first. */
export type PeerHello = ForwardHello | AgentDataHello;

const peerHello = z.discriminatedUnion('op', [forwardHello, agentDataHello]);

/** The plain form of a principal on the link. */
function plainPrincipal(principal: Principal): z.infer<typeof principalFields> {
  return {
    id: principal.id,
    grants: { register: [...principal.grants.register], attach: [...principal.grants.attach], admin: principal.grants.admin },
    method: principal.method,
    // A JWT's exp may be fractional; rounded down, the principal expires no later on the holder.
    ...(principal.expiresAt !== undefined ? { expiresAt: Math.floor(principal.expiresAt) } : {}),
  };
}

const answer = z.union([
  z.strictObject({ ok: z.literal(true) }),
  z.strictObject({ ok: z.literal(false), code: z.string().max(64), message: z.string().max(4096), recorded: z.boolean().optional() }),
]);

/** The hello line an instance sends its peer: the authenticated principal and what the client asked for. */
export function forwardHelloLine(hello: Omit<ForwardHello, 'op' | 'v' | 'principal'> & { readonly principal: Principal }): string {
  return `${JSON.stringify({ op: 'forward', v: 1, ...hello, principal: plainPrincipal(hello.principal) })}\n`;
}

/** The hello line that hands an agent's data connection to the instance that issued its session id. */
export function agentDataHelloLine(hello: Omit<AgentDataHello, 'op' | 'v' | 'principal'> & { readonly principal: Principal }): string {
  return `${JSON.stringify({ op: 'agentData', v: 1, ...hello, principal: plainPrincipal(hello.principal) })}\n`;
}

/** Parses a peer's hello line; throws `BAD_REQUEST` (the line is never quoted). */
export function parsePeerHello(line: string): PeerHello {
  const parsed = peerHello.safeParse(parseBoundedJson(line, 'peer hello', { maxDepth: 8 }));
  if (!parsed.success) throw new RelayError('BAD_REQUEST', 'malformed hello from a peer instance');
  return parsed.data;
}

/** The principal a peer asserts: trusted because the peer proved a certificate of the cluster's CA. */
export function forwardedPrincipal(hello: PeerHello): Principal {
  const { principal } = hello;
  return Object.freeze({
    id: principal.id,
    grants: Object.freeze({ register: Object.freeze([...principal.grants.register]), attach: Object.freeze([...principal.grants.attach]), admin: principal.grants.admin }),
    method: principal.method,
    ...(principal.expiresAt !== undefined ? { expiresAt: principal.expiresAt } : {}),
  });
}

/**
 * The holder's answer line: accepted, or the refusal the client gets as if it came from
 * the instance it dialed; `recorded` when the holder has recorded the refusal (audit,
 * metrics), so that the forwarding instance does not record it again.
 */
export function forwardAnswerLine(error?: RelayError, recorded = false): string {
  return `${JSON.stringify(error ? { ok: false, code: error.code, message: error.message, ...(recorded ? { recorded } : {}) } : { ok: true })}\n`;
}

/** Refusals whose holder said it recorded them. */
const recordedRefusals = new WeakSet<RelayError>();

/** True when `refusal` came from a holder that recorded it itself. */
export function recordedByHolder(refusal: RelayError): boolean {
  return recordedRefusals.has(refusal);
}

/** Parses the holder's answer; a refusal is thrown as the holder's {@link RelayError}. */
export function parseForwardAnswer(line: string): void {
  const parsed = answer.safeParse(parseBoundedJson(line, 'forward answer', { maxDepth: 4 }));
  if (!parsed.success) throw new RelayError('INTERNAL', 'malformed answer from the peer instance');
  if (parsed.data.ok) return;
  const code: RelayErrorCode = isRelayErrorCode(parsed.data.code) ? parsed.data.code : 'INTERNAL';
  const refusal = new RelayError(code, parsed.data.message);
  if (parsed.data.recorded === true) recordedRefusals.add(refusal);
  throw refusal;
}
