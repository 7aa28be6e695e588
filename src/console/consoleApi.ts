import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditSink } from '../audit/auditEvent.js';
import { RelayError } from '../common/relayError.js';
import type { ClientOrigin } from '../listeners/forwardedClient.js';
import type { ListenerContext } from '../listeners/listenerContext.js';
import { errorBody } from '../listeners/httpResponses.js';
import type { Logger } from '../log/logger.js';
import type { ConsoleMetrics } from '../metrics/consoleMetrics.js';
import type { SessionBroker } from '../session/sessionBroker.js';
import type { ResumeOutcome } from '../session/sessionStatus.js';
import { auditFilterFromQuery } from './consoleAudit.js';
import type { ConsoleAuditReads } from './consoleAuditReads.js';
import { type ConsoleCaller, clientCertificateFingerprint, consoleLogin } from './consoleAuth.js';
import { clearedCookie, loginCookie } from './consoleCookie.js';
import { sendConsoleJson } from './consoleHeaders.js';
import type { ConsoleLogins } from './consoleLogins.js';
import { readJsonObject } from './consoleRequestBody.js';
import { consoleSessions, consoleTargets, seesAuditRecord } from './consoleViews.js';

/** What the console's API works with. */
export interface ConsoleApiParts {
  readonly logins: ConsoleLogins;
  /** The sessions of this relay, and the admin actions on them. */
  readonly broker: Pick<SessionBroker, 'sessionRecords' | 'endSession' | 'resumeSession'>;
  /** Where `console.login` is recorded (the relay's audit log). */
  readonly audit: AuditSink;
  /** The audit view's reads of the audit log; undefined when `audit.enabled` is off. */
  readonly auditReads: ConsoleAuditReads | undefined;
  /** Bound on a request body (config `limits.maxControlMessageBytes`). */
  readonly maxBodyBytes: number;
  /** Sessions with an administrator's action under way (one at a time per session). */
  readonly pendingActions: Set<string>;
  readonly metrics?: ConsoleMetrics;
  readonly logger: Logger;
}

/** `POST /console/api/login` `{"credential": "..."}`: a login cookie for a secret or a JWT. The credential is never logged. */
export async function login(parts: ConsoleApiParts, context: ListenerContext, request: IncomingMessage, response: ServerResponse, origin: ClientOrigin): Promise<void> {
  const body = await readJsonObject(request, parts.maxBodyBytes);
  const field = body['credential'];
  if (typeof field !== 'string') throw new RelayError('BAD_REQUEST', 'expected {"credential": "<secret or token>"}');
  const principal = await consoleLogin(context, request, origin, field.trim());
  const started = parts.logins.create(principal, clientCertificateFingerprint(request));
  try {
    parts.audit.record({ event: 'console.login', principal: principal.id, method: principal.method, client: origin.display });
  } catch (error) {
    parts.logger.error({ err: error }, 'audit record lost');
  }
  parts.logger.info({ principal: principal.id, method: principal.method, remote: origin.display }, 'console login');
  sendConsoleJson(response, 200, { ok: true, expiresAt: started.expiresAt }, { 'Set-Cookie': loginCookie(started.id, started.expiresAt - Date.now()) });
}

/** `POST /console/api/logout`: forgets the login and clears the cookie. */
export function logout(parts: ConsoleApiParts, caller: ConsoleCaller, response: ServerResponse): void {
  if (caller.login) parts.logins.remove(caller.login.id);
  sendConsoleJson(response, 200, { ok: true }, { 'Set-Cookie': clearedCookie() });
}

/** `GET /console/api/me`: who is logged in, whether actions are offered, and the CSRF token actions carry. */
export function me(caller: ConsoleCaller, response: ServerResponse): void {
  const { principal, login: held } = caller;
  sendConsoleJson(response, 200, {
    principal: principal.id,
    method: principal.method,
    admin: principal.grants.admin,
    ...(held ? { csrfToken: held.csrfToken, expiresAt: held.expiresAt } : {}),
  });
}

/** `GET /console/api/targets[?after=name]`: one page of the targets the caller may see, with groups. */
export async function targets(context: ListenerContext, caller: ConsoleCaller, query: URLSearchParams, response: ServerResponse): Promise<void> {
  const after = query.get('after') ?? undefined;
  const page = await context.targetPage(caller.principal, { after: after === '' ? undefined : after });
  sendConsoleJson(response, 200, { targets: consoleTargets(page.targets), ...(page.next !== undefined ? { next: page.next } : {}), now: Date.now() });
}

/** `GET /console/api/sessions`: the sessions of this relay on targets the caller may see. */
export function sessions(parts: ConsoleApiParts, caller: ConsoleCaller, response: ServerResponse): void {
  sendConsoleJson(response, 200, { sessions: consoleSessions(caller.principal, parts.broker.sessionRecords()), now: Date.now() });
}

/**
 * `GET /console/api/audit?target=&principal=&event=&since=&until=`: the newest matching
 * audit records; 429 with `Retry-After` while another page is read.
 */
export async function audit(parts: ConsoleApiParts, caller: ConsoleCaller, query: URLSearchParams, response: ServerResponse): Promise<void> {
  if (parts.auditReads === undefined) {
    sendConsoleJson(response, 200, { records: [], more: false, enabled: false });
    return;
  }
  const filter = auditFilterFromQuery(query);
  const page = await parts.auditReads.page(filter, (record) => seesAuditRecord(caller.principal, record));
  if (page === undefined) {
    const busy = new RelayError('LIMIT_REACHED', 'another audit page is being read; ask again in a moment');
    sendConsoleJson(response, 429, errorBody(busy), { 'Retry-After': '1' });
    return;
  }
  sendConsoleJson(response, 200, { ...page, enabled: true });
}

/** The refusal of a console action, by how the session answered. */
function actionRefusal(outcome: Exclude<ResumeOutcome, 'resumed'>): RelayError {
  switch (outcome) {
    case 'notStopped':
      return new RelayError('BAD_REQUEST', 'the program of this session is not stopped');
    case 'refused':
      return new RelayError(
        'AGENT_GONE',
        'the debugger did not resume the program (debugpy refused, or did not answer in time: a late answer is still audited); the pause watchdog still holds, and End session detaches the debugger, which resumes it',
      );
    case 'busy':
      return new RelayError('TARGET_BUSY', 'another action on this session is under way');
  }
}

/**
 * The admin actions on a session: `end` (detach; the program runs on) and `resume`
 * (continue a stopped program). Answers once the session did it: 200 only when debugpy
 * resumed the program, or the session ended. One action per session at a time: a
 * second one while the first is under way is refused (409), so nothing is done or
 * audited twice.
 */
export async function sessionAction(parts: ConsoleApiParts, caller: ConsoleCaller, id: string, action: 'end' | 'resume', response: ServerResponse): Promise<void> {
  if (!caller.principal.grants.admin) throw new RelayError('AUTH_FAILED', `${action === 'end' ? 'ending a session' : 'resuming a program'} needs the admin grant`);
  if (parts.pendingActions.has(id)) throw actionRefusal('busy');
  const by = caller.principal.id;
  parts.pendingActions.add(id);
  try {
    if (action === 'end') {
      if (!(await parts.broker.endSession(id, by))) throw new RelayError('UNKNOWN_SESSION', 'no such session runs on this relay');
    } else {
      const outcome = await parts.broker.resumeSession(id, by);
      if (outcome === undefined) throw new RelayError('UNKNOWN_SESSION', 'no such session runs on this relay');
      if (outcome !== 'resumed') throw actionRefusal(outcome);
    }
  } finally {
    parts.pendingActions.delete(id);
  }
  parts.metrics?.actions.labels(action).inc();
  parts.logger.info({ session: id, action, by }, 'console action');
  sendConsoleJson(response, 200, { ok: true });
}
