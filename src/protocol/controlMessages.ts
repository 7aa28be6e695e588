import { z } from 'zod';
import { maxPrefetchBytes, maxPrefetchHoldMs } from './prefetch.js';
import { targetNamePattern } from './targetName.js';

/** Protocol version spoken by this build (docs/protocol.md). */
export const protocolVersion = 1;

const errorBody = z.object({ code: z.string().min(1).max(64), message: z.string().max(1024) });

/**
 * Bound on a target's labels, keys and values together, in UTF-8 bytes (revision 1.9,
 * docs/protocol.md §5): keeps every entry of the target list small, so a page of it
 * stays far under the 1 MiB reply bound.
 */
export const maxLabelBytes = 2048;

/** UTF-8 bytes of all keys and values of `labels`. */
export function labelBytes(labels: Readonly<Record<string, string>>): number {
  let total = 0;
  for (const [key, value] of Object.entries(labels)) total += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
  return total;
}

const labels = z
  .record(z.string().min(1).max(64), z.string().max(256))
  .refine((l) => Object.keys(l).length <= 32, { message: 'at most 32 labels' })
  .superRefine((l, context) => {
    const bytes = labelBytes(l);
    if (bytes > maxLabelBytes) {
      context.addIssue({ code: 'custom', message: `labels take ${bytes} bytes (keys and values together, UTF-8); at most ${maxLabelBytes} are allowed` });
    }
  });

/** Bound on the `killTimer` an agent reports, in seconds (one day). */
export const maxKillTimerSeconds = 86_400;

/** Bound on the `cwd` and `root` paths of a registration (docs/protocol.md §5). */
export const maxProcessPathChars = 4096;

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
    /** The program's working directory at registration (revision 1.11). */
    cwd: z.string().min(1).max(maxProcessPathChars).optional(),
    /** Where the program's own files are rooted: its script's directory, or its package's sys.path entry (revision 1.11). */
    root: z.string().min(1).max(maxProcessPathChars).optional(),
    /**
     * The server's own bound on a worker that does not answer, e.g. gunicorn's
     * `--timeout` (revision 1.11): the pause watchdog resumes a paused target before it.
     */
    killTimer: z.object({ seconds: z.number().positive().max(maxKillTimerSeconds), source: z.string().min(1).max(64) }).optional(),
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
export const openMessage = z.object({
  type: z.literal('open'),
  sessionId,
  /** Send answers ahead on each stop, within these limits (revision 1.13, §6). */
  prefetch: z.object({ maxBytes: z.number().int().min(1).max(maxPrefetchBytes), maxHoldMs: z.number().int().min(1).max(maxPrefetchHoldMs) }).optional(),
});
/** `openFailed` (agent → relay). */
export const openFailedMessage = z.object({ type: z.literal('openFailed'), sessionId, message: z.string().max(1024) });
/** `error` (either way, before closing). */
export const controlErrorMessage = z.object({ type: z.literal('error'), code: z.string().min(1).max(64), message: z.string().max(1024) });

/**
 * `goaway` (relay → agent, revision 1.5): the relay is draining and closes the control
 * connection; the agent reconnects with its backoff, waiting at least `retryAfterMs`
 * (by then a load balancer sends it to another instance, or the restarted relay is up).
 */
export const goawayMessage = z.object({
  type: z.literal('goaway'),
  reason: z.string().max(1024),
  retryAfterMs: z.number().int().nonnegative().max(3_600_000).optional(),
});

/**
 * `guard` (agent → relay, revision 1.8): the pause guard inside the debuggee resumed a
 * program paused past its bound (`reason` says which), after `pausedMs`.
 */
export const guardMessage = z.object({
  type: z.literal('guard'),
  event: z.literal('resumed'),
  reason: z.string().max(1024),
  pausedMs: z.number().int().nonnegative(),
});

/** What a `status` message says of the debugger inside the debuggee (revision 1.8). */
export const debuggerStates = ['ok', 'unguarded', 'broken'] as const;
export type DebuggerState = (typeof debuggerStates)[number];

/**
 * `status` (agent → relay, revision 1.8): whether the debugger inside the debuggee works
 * (`ok`), works without the in-process pause guard (`unguarded`), or cannot be used
 * until the process restarts (`broken`, e.g. pydevd's reader thread ended); `detail` says why.
 */
export const statusMessage = z.object({
  type: z.literal('status'),
  debugger: z.enum(debuggerStates),
  detail: z.string().max(1024).optional(),
});

/** Messages the relay accepts from an agent on the control connection. */
export const agentToRelayMessage = z.discriminatedUnion('type', [registerMessage, pongMessage, openFailedMessage, controlErrorMessage, guardMessage, statusMessage]);
/** Messages the agent accepts from the relay on the control connection. */
export const relayToAgentMessage = z.discriminatedUnion('type', [registeredMessage, pingMessage, openMessage, controlErrorMessage, goawayMessage]);

export type RegisterMessage = z.infer<typeof registerMessage>;
export type RegisteredMessage = z.infer<typeof registeredMessage>;
export type AgentToRelayMessage = z.infer<typeof agentToRelayMessage>;
export type GuardMessage = z.infer<typeof guardMessage>;
export type StatusMessage = z.infer<typeof statusMessage>;
export type RelayToAgentMessage = z.infer<typeof relayToAgentMessage>;

/**
 * Most targets one page of the target list holds (revision 1.9, docs/protocol.md §7),
 * and the page size when the request names none. A page also ends before it would pass
 * {@link maxTargetsPageBytes}.
 */
export const maxTargetsPage = 500;
/** Bound on one page of the target list, serialized (far under the client's 1 MiB reply bound). */
export const maxTargetsPageBytes = 512 * 1024;
/** Bound on a reply the client reads that carries the target list (tcps reply line, https body). */
export const maxTargetsReplyBytes = 1024 * 1024;

const targetsCursor = z.string().min(1).max(256);
const targetsLimit = z.number().int().min(1).max(maxTargetsPage);

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
    /** The client sends a `dbgrelay.heartbeat` event at least this often (revision 1.4, §6). */
    heartbeatMs: z.number().int().min(100).max(3_600_000).optional(),
    /** The client uses answers sent ahead on each stop (revision 1.13, §6). */
    prefetch: z.boolean().optional(),
    ...helloCredential,
  }),
  z.object({ dbgrelay: z.literal(protocolVersion), op: z.literal('agent'), ...helloCredential }),
  z.object({
    dbgrelay: z.literal(protocolVersion),
    op: z.literal('agentData'),
    sessionId,
    /** The agent sends a `dbgrelay.heartbeat` event at least this often on this data connection (revision 1.7, §6). */
    heartbeatMs: z.number().int().min(100).max(3_600_000).optional(),
    ...helloCredential,
  }),
  z.object({
    dbgrelay: z.literal(protocolVersion),
    op: z.literal('targets'),
    /** Paging (revision 1.9, §7): list only targets whose name sorts after this one (the previous reply's `next`). */
    after: targetsCursor.optional(),
    /** Paging (revision 1.9, §7): at most this many targets in the reply. */
    limit: targetsLimit.optional(),
    ...helloCredential,
  }),
]);
export type HelloLine = z.infer<typeof helloLine>;

/** Bound on a tcps hello line, newline included. */
export const maxHelloBytes = 8 * 1024;

/** How the relay reaches a target (docs/protocol.md §7). */
export const targetKinds = ['agent', 'tcp', 'ssh', 'ssh-reverse', 'direct'] as const;
export type TargetKind = (typeof targetKinds)[number];

/**
 * Target as listed by `GET /v1/targets` (docs/protocol.md §7). Process fields are
 * known for agent targets only; `kind`, `address`, `reachable` and `detail` came with
 * protocol revision 1.3 (a listing without `kind` is an agent's).
 */
export const targetInfo = z.object({
  name: z.string(),
  kind: z.enum(targetKinds).optional(),
  labels: z.record(z.string(), z.string()),
  host: z.string(),
  pid: z.number().int().optional(),
  python: z.string().optional(),
  debugpy: z.string().optional(),
  agent: z.string().optional(),
  /** Agents: the program's working directory and root (revision 1.11), for path mappings. */
  cwd: z.string().optional(),
  root: z.string().optional(),
  /** Agents: the server's kill timer the agent read (revision 1.11). */
  killTimer: z.object({ seconds: z.number(), source: z.string() }).optional(),
  transport: z.enum(['wss', 'tcps', 'tcp', 'ssh']),
  /** Where the relay dials the adapter (configured and SSH targets), without credentials. */
  address: z.string().optional(),
  /** Configured targets: whether the last attempt to reach the adapter succeeded. */
  reachable: z.boolean().optional(),
  /** Agents: the debugger inside the debuggee, as its last `status` said (revision 1.8). */
  debugger: z.enum(debuggerStates).optional(),
  /** Why a configured target is unreachable, or why an agent's debugger is not `ok`. */
  detail: z.string().optional(),
  connectedAt: z.string(),
  sessions: z.number().int().nonnegative(),
});
export type TargetInfo = z.infer<typeof targetInfo>;

/** Relay's answer to a hello line, and the body of `GET /v1/targets`. */
export const helloReply = z.union([
  z.object({
    ok: z.literal(true),
    targets: z.array(targetInfo).optional(),
    /** More targets follow: ask again with `after` set to this name (revision 1.9, §7). */
    next: z.string().optional(),
    /** The relay answers the peer's heartbeats and closes the connection after this much silence (revisions 1.4, 1.7, §6). */
    heartbeatTimeoutMs: z.number().int().positive().optional(),
  }),
  z.object({ ok: z.literal(false), error: errorBody }),
]);
export type HelloReply = z.infer<typeof helloReply>;

/** Body of an HTTP refusal (docs/protocol.md §3). */
export const httpErrorBody = z.object({ error: errorBody });
