import { z } from 'zod';
import { targetNamePattern } from './targetName.js';

/** Protocol version spoken by this build (docs/protocol.md). */
export const protocolVersion = 1;

const errorBody = z.object({ code: z.string().min(1).max(64), message: z.string().max(1024) });

const labels = z.record(z.string().min(1).max(64), z.string().max(256)).refine((l) => Object.keys(l).length <= 32, {
  message: 'at most 32 labels',
});

/** `register` (agent → relay), docs/protocol.md §5. */
export const registerMessage = z.object({
  type: z.literal('register'),
  agentId: z.string().min(1).max(128),
  target: z.object({ name: z.string().regex(targetNamePattern, 'invalid target name'), labels: labels.optional() }),
  process: z.object({
    pid: z.number().int().nonnegative(),
    host: z.string().max(255),
    python: z.string().max(64),
    debugpy: z.string().max(64),
    agent: z.string().max(64),
  }),
  /**
   * The target's attach secret (docs/protocol.md §2.2): clients presenting it may
   * attach to this target only. The relay keeps only its digest.
   */
  attachSecret: z.string().min(1).max(4096).optional(),
});

/** `registered` (relay → agent). */
export const registeredMessage = z.object({
  type: z.literal('registered'),
  target: z.string(),
  heartbeat: z.object({ intervalMs: z.number().int().positive(), timeoutMs: z.number().int().positive() }),
});

/** `ping` (relay → agent) and `pong` (agent → relay). */
export const pingMessage = z.object({ type: z.literal('ping'), id: z.number().int().nonnegative() });
export const pongMessage = z.object({ type: z.literal('pong'), id: z.number().int().nonnegative() });

/** One-time session ids (docs/protocol.md §5): at least 128 random bits, base64url. */
export const sessionIdPattern = /^[A-Za-z0-9_-]{22,128}$/;

const sessionId = z.string().regex(sessionIdPattern, 'invalid session id');

/** `open` (relay → agent). */
export const openMessage = z.object({ type: z.literal('open'), sessionId });
/** `openFailed` (agent → relay). */
export const openFailedMessage = z.object({ type: z.literal('openFailed'), sessionId, message: z.string().max(1024) });
/** `error` (either way, before closing). */
export const controlErrorMessage = z.object({ type: z.literal('error'), code: z.string().min(1).max(64), message: z.string().max(1024) });

/** Messages the relay accepts from an agent on the control connection. */
export const agentToRelayMessage = z.discriminatedUnion('type', [registerMessage, pongMessage, openFailedMessage, controlErrorMessage]);
/** Messages the agent accepts from the relay on the control connection. */
export const relayToAgentMessage = z.discriminatedUnion('type', [registeredMessage, pingMessage, openMessage, controlErrorMessage]);

export type RegisterMessage = z.infer<typeof registerMessage>;
export type RegisteredMessage = z.infer<typeof registeredMessage>;
export type AgentToRelayMessage = z.infer<typeof agentToRelayMessage>;
export type RelayToAgentMessage = z.infer<typeof relayToAgentMessage>;

/** Credential fields of a hello line (docs/protocol.md §2, §4): a secret or a bearer token. */
const helloCredential = { secret: z.string().max(4096).optional(), token: z.string().max(8192).optional() };

/** tcps hello line (docs/protocol.md §4). */
export const helloLine = z.discriminatedUnion('op', [
  z.object({
    dbgrelay: z.literal(protocolVersion),
    op: z.literal('attach'),
    target: z.string().max(256),
    /** An admin asks to take the target over from its current holder (revision 1.2, §6). */
    takeover: z.boolean().optional(),
    ...helloCredential,
  }),
  z.object({ dbgrelay: z.literal(protocolVersion), op: z.literal('agent'), ...helloCredential }),
  z.object({ dbgrelay: z.literal(protocolVersion), op: z.literal('agentData'), sessionId, ...helloCredential }),
  z.object({ dbgrelay: z.literal(protocolVersion), op: z.literal('targets'), ...helloCredential }),
]);
export type HelloLine = z.infer<typeof helloLine>;

/** Bound on a tcps hello line, newline included. */
export const maxHelloBytes = 8 * 1024;

/** Target as listed by `GET /v1/targets` (docs/protocol.md §7). */
export const targetInfo = z.object({
  name: z.string(),
  labels: z.record(z.string(), z.string()),
  host: z.string(),
  pid: z.number().int(),
  python: z.string(),
  debugpy: z.string(),
  agent: z.string(),
  transport: z.enum(['wss', 'tcps']),
  connectedAt: z.string(),
  sessions: z.number().int().nonnegative(),
});
export type TargetInfo = z.infer<typeof targetInfo>;

/** Relay's answer to a hello line, and the body of `GET /v1/targets`. */
export const helloReply = z.union([
  z.object({ ok: z.literal(true), targets: z.array(targetInfo).optional() }),
  z.object({ ok: z.literal(false), error: errorBody }),
]);
export type HelloReply = z.infer<typeof helloReply>;

/** Body of an HTTP refusal (docs/protocol.md §3). */
export const httpErrorBody = z.object({ error: errorBody });
