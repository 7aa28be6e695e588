import type { ServerResponse } from 'node:http';
import { httpStatusFor, type RelayError } from '../common/relayError.js';
import { errorBody } from '../listeners/httpResponses.js';

/**
 * Headers of every console answer: nothing but the relay's own files may load or run
 * (no inline script or style), no page may frame the console, no referrer leaves it,
 * no content type is guessed.
 */
export const consoleSecurityHeaders: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
});

/** Answers a console API request with JSON that no cache keeps. */
export function sendConsoleJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...consoleSecurityHeaders,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  response.end(text);
}

/**
 * Answers with the refusal for `error`. `AUTH_FAILED` for a principal that did
 * authenticate (a read-only engineer asking for an admin action) is 403, not 401: the
 * credential is fine, the grant is missing. No `WWW-Authenticate`: a browser must not
 * pop up its own password dialog over the console's login form.
 */
export function sendConsoleError(response: ServerResponse, error: RelayError, authenticated: boolean): void {
  const status = authenticated && error.code === 'AUTH_FAILED' ? 403 : httpStatusFor(error.code);
  sendConsoleJson(response, status, errorBody(error));
}
