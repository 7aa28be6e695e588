import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { credentialFromAuthorization } from '../auth/credentialParser.js';
import { hasRole } from '../auth/grants.js';
import type { Credential, Principal } from '../auth/principal.js';
import { RelayError } from '../common/relayError.js';
import { type ClientOrigin, originFields } from '../listeners/forwardedClient.js';
import { authenticate, type ListenerContext } from '../listeners/listenerContext.js';
import { consoleCookieValue } from './consoleCookie.js';
import { type ConsoleLogin, type ConsoleLogins, csrfTokenMatches } from './consoleLogins.js';

/** Who asks: the principal, and the login when it came by cookie. */
export interface ConsoleCaller {
  readonly principal: Principal;
  readonly login?: ConsoleLogin;
}

/** The header by which the page sends its login's CSRF token with every action. */
export const csrfHeader = 'x-dbgrelay-csrf';

// A JWT in compact form (RFC 7515 §7.1): three base64url parts; anything else typed into the form is a secret.
const compactJwt = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** What the login form's one field holds, as a credential: a JWT, or the relay secret. */
export function credentialFromLoginField(value: string): Credential {
  return compactJwt.test(value) ? { kind: 'bearer', token: value } : { kind: 'secret', secret: value };
}

/** The SHA-256 fingerprint of the client certificate `request` came with, undefined when none. */
export function clientCertificateFingerprint(request: IncomingMessage): string | undefined {
  const socket = request.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const certificate = socket.getPeerCertificate();
  return certificate?.raw !== undefined && certificate.raw.length > 0 ? certificate.fingerprint256 : undefined;
}

// A login bound to a certificate counts only on a request that presents that certificate.
function loginHolds(login: ConsoleLogin, request: IncomingMessage): boolean {
  return login.certificateFingerprint === undefined || login.certificateFingerprint === clientCertificateFingerprint(request);
}

/** Only engineers (client role) and administrators may use the console; an agent's credential may not. */
export function requireConsoleRole(principal: Principal): void {
  if (!principal.grants.admin && !hasRole(principal, 'client')) throw new RelayError('AUTH_FAILED', 'credential does not allow the web console (needs an attach scope or admin)');
}

/**
 * Who sends `request`, in this order: the login its cookie names (with the client
 * certificate it was made with, if any); an `Authorization`
 * header (Bearer JWT or Basic secret, as for `GET /v1/targets`); a client certificate
 * (with `auth.certificates.sufficient`). Throws `AUTH_REQUIRED` when none is there, or
 * the refusal of the relay's authentication (counted, logged, locked out as
 * everywhere).
 */
export async function consoleCaller(context: ListenerContext, logins: ConsoleLogins, request: IncomingMessage, origin: ClientOrigin): Promise<ConsoleCaller> {
  const cookie = consoleCookieValue(request.headers);
  const login = cookie === undefined ? undefined : logins.find(cookie);
  if (login && loginHolds(login, request)) {
    // The cookie authenticated this connection: it no longer counts toward the caps before authentication.
    context.preAuth?.authenticated(request.socket);
    return { principal: login.principal, login };
  }
  const header = request.headers.authorization;
  if (header === undefined && clientCertificateFingerprint(request) === undefined) throw new RelayError('AUTH_REQUIRED', 'log in with the relay secret or a token');
  const principal = await authenticate(context, () => credentialFromAuthorization(header), {
    via: 'wss',
    ...originFields(origin),
    endpoint: 'console',
    socket: request.socket,
  });
  requireConsoleRole(principal);
  return { principal };
}

/** Authenticates what the login form sent, through the relay's authentication (lockout included). */
export async function consoleLogin(context: ListenerContext, request: IncomingMessage, origin: ClientOrigin, field: string): Promise<Principal> {
  const principal = await authenticate(context, () => (field === '' ? undefined : credentialFromLoginField(field)), {
    via: 'wss',
    ...originFields(origin),
    endpoint: 'console',
    socket: request.socket,
  });
  requireConsoleRole(principal);
  return principal;
}

// What a browser's `Sec-Fetch-Site` may say on an API request: the console's own page, or
// the user typing the address (`none`). Another site, even a sibling subdomain
// (`same-site`), may not drive a browser that holds a login cookie or a client certificate.
const ownSite = new Set(['same-origin', 'none']);

/**
 * True when a browser says `request` comes from another site (`Sec-Fetch-Site:
 * cross-site` or `same-site`; Fetch Metadata, https://www.w3.org/TR/fetch-metadata/):
 * the console API refuses it, reading requests included. Clients that are not browsers
 * send no such header and pass.
 */
export function fromOtherSite(request: IncomingMessage): boolean {
  const site = request.headers['sec-fetch-site'];
  return site !== undefined && !ownSite.has(site);
}

/**
 * Refuses a state-changing request that may come from another site: it must be JSON
 * (a cross-site form cannot send `application/json` without a CORS preflight, which
 * the relay never grants), a browser's `Sec-Fetch-Site` must say `same-origin`, and a
 * request that rides on the login cookie must carry the login's CSRF token.
 */
export function refuseCrossSite(request: IncomingMessage, caller: ConsoleCaller | undefined): void {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw new RelayError('BAD_REQUEST', 'console actions are JSON requests (Content-Type: application/json)');
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') throw new RelayError('AUTH_FAILED', 'console actions are accepted from the console itself only');
  if (caller?.login) {
    const presented = request.headers[csrfHeader];
    if (!csrfTokenMatches(caller.login, typeof presented === 'string' ? presented : undefined)) {
      throw new RelayError('AUTH_FAILED', 'missing or wrong CSRF token: reload the console');
    }
  }
}
