import { RelayError } from '../common/relayError.js';
import { asEndpointError } from '../dial/directEndpointDialer.js';
import { checkAttachAdmission } from '../dial/relayDialer.js';
import { fetchTargetPage } from '../dial/relayTargetList.js';
import type { RelayDialOptions } from '../dial/relayRequests.js';
import type { TargetInfo } from '../protocol/controlMessages.js';
import { cursorBefore, lookUpTarget } from './targetLookup.js';

/** Bound on all the checks together when the options give none (`dbgrelay attach --check-timeout`). */
export const defaultCheckTimeoutMs = 10_000;

/** What `dbgrelay attach` checks before it listens, and how. */
export interface AttachCheckOptions extends RelayDialOptions {
  /** The target; undefined for a `wss://…/ptvsd` URL (the relay's default target). */
  readonly target?: string | undefined;
  /** A direct debug endpoint (`tcps://…` of agent-py's `enable_attach`), not a relay. */
  readonly direct?: boolean;
  /** The credential is a secret (the relay secret, or possibly a target's attach secret). */
  readonly secretCredential?: boolean;
  /** The session will ask to take the target over (admin only). */
  readonly takeover?: boolean;
}

/** What the check found: the target's listing entry, and what it could not establish. */
export interface AttachCheck {
  /** The target as the relay (or endpoint) lists it to this credential. */
  readonly target?: TargetInfo;
  /** One line each for what was not checked or may still refuse the session. */
  readonly notes: readonly string[];
}

/**
 * Checks, before `dbgrelay attach` opens its local port, what would otherwise fail
 * only once a debugger connects. Over wss the relay answers it itself (attach check,
 * docs/protocol.md §3, revision 1.14): the credential (a target's attach secret too),
 * the grants, the target connected and not busy with another principal; from revision
 * 1.15 its answer carries the target's entry, and nothing else is asked. A 1.14 relay's
 * answer has no entry: the entry is then looked up in the target list only with a
 * credential that may list (never a secret, which may be a target's attach secret: a
 * refused listing counts as a failed attempt). Over tcps,
 * with a relay before 1.14 and for a direct endpoint, one request of the target list
 * does what it can: the page that starts at `target` (docs/protocol.md §7). It shows that the
 * relay is reachable and trusted (TLS verified as for a session), that the credential
 * is accepted, and that the target is connected and covered by the credential's
 * grants (a client sees only the targets it may attach to). A target's attach secret
 * cannot list targets (the relay refuses it with `AUTH_FAILED`): then only reach and
 * trust are shown, and a note says so. A target held by another principal is refused
 * only at attach time (the list does not say who holds it): a note says when sessions
 * are open. A URL where the list is not found (a front end that forwards only some
 * paths) is checked for reach and trust only. `timeoutMs` bounds all of it together.
 * Rejects with the dial's errors (`RELAY_UNREACHABLE`, `TLS_*`,
 * `AUTH_*`), or `UNKNOWN_TARGET` when the target is not listed.
 */
export async function checkBeforeAttach(options: AttachCheckOptions): Promise<AttachCheck> {
  // One deadline for every request the checks make (--check-timeout bounds them all).
  const deadline = Date.now() + (options.timeoutMs ?? defaultCheckTimeoutMs);
  const bounded = (): AttachCheckOptions => ({ ...options, timeoutMs: Math.max(1, deadline - Date.now()) });
  const admission = !options.direct && options.target !== undefined ? await askedRelay(bounded(), options.target) : undefined;
  if (admission !== undefined && options.target !== undefined) {
    const entry = admission.target ?? (options.secretCredential ? undefined : await lookUpTarget(bounded(), options.target));
    const broken = entry?.debugger === 'broken' ? [brokenNote(entry)] : [];
    return { ...(entry !== undefined ? { target: entry } : {}), notes: broken };
  }
  return checkWithListing(bounded());
}

/**
 * The relay's own attach check (revision 1.14: credential, including a target's attach
 * secret, grants, target connected, not busy with another principal): its admission
 * (with the target's entry from 1.15), or undefined when the relay cannot answer it
 * (tcps, an older relay, a front end that does not forward it). Rejects with its refusal.
 */
async function askedRelay(options: AttachCheckOptions, target: string): Promise<{ readonly target?: TargetInfo } | undefined> {
  try {
    const admission = await checkAttachAdmission({ ...options, target, ...(options.takeover ? { takeover: true } : {}) });
    return admission.verdict === 'admitted' ? admission : undefined;
  } catch (error) {
    if (error instanceof RelayError && error.code === 'NOT_FOUND') return undefined;
    throw error;
  }
}

function brokenNote(entry: TargetInfo): string {
  return `warning: ${entry.name}'s debugger is broken${entry.detail ? ` (${entry.detail})` : ''}: it cannot be debugged until the program restarts`;
}

/** The check with the target list alone (tcps, relays before 1.14, direct endpoints). */
async function checkWithListing(options: AttachCheckOptions): Promise<AttachCheck> {
  const where = options.direct ? 'the debug endpoint' : 'the relay';
  const after = options.target !== undefined && !options.direct ? cursorBefore(options.target) : undefined;
  let targets: TargetInfo[];
  try {
    ({ targets } = await fetchTargetPage(options, { ...(after !== undefined ? { after } : {}), limit: 1 }));
  } catch (error) {
    if (options.direct) throw asEndpointError(error);
    if (error instanceof RelayError && error.code === 'AUTH_FAILED' && options.secretCredential) {
      return {
        notes: [
          `${where} does not let this secret list targets: a target's attach secret allows only attaching, and is checked when the debugger connects (a wrong relay secret is refused then too)`,
        ],
      };
    }
    if (error instanceof RelayError && error.code === 'NOT_FOUND') {
      // A front end that forwards only some paths (e.g. only /ptvsd) answers the list with 404.
      return { notes: [`${where} at ${options.endpoint.display} does not answer the target list at this URL: only reach and trust were checked`] };
    }
    throw error;
  }
  const entry = options.direct || options.target === undefined ? targets[0] : targets.find((listed) => listed.name === options.target);
  if (options.target === undefined && !options.direct) return { notes: [] };
  if (entry === undefined) {
    throw new RelayError(
      'UNKNOWN_TARGET',
      `${where} at ${options.endpoint.display} lists no target "${options.target}" to this credential: it is not connected, or the credential's attach scopes do not cover it (dbgrelay targets shows what it may attach to)`,
    );
  }
  const notes: string[] = [];
  if (entry.debugger === 'broken') notes.push(brokenNote(entry));
  if (entry.sessions > 0) notes.push(`${entry.name} has ${entry.sessions} session(s) open: if another principal holds it, the session will be refused with TARGET_BUSY`);
  return { target: entry, notes };
}
