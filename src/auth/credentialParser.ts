import { RelayError } from '../common/relayError.js';
import type { Credential } from './principal.js';

/**
 * Reads the credential of an HTTP request from its `Authorization` header
 * (docs/protocol.md §2): `Basic base64("<secret>:")` (RFC 7617; the secret is the user
 * name, as a `wss://<secret>@host/` URL sends it; a secret sent as the password with
 * an empty user name is accepted too) or `Bearer <token>` (RFC 6750). No header gives
 * undefined; a malformed one is `AUTH_FAILED`.
 */
export function credentialFromAuthorization(header: string | undefined): Credential | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const match = /^([A-Za-z]+)[ ]+(\S+)\s*$/.exec(header);
  if (!match) throw new RelayError('AUTH_FAILED', 'malformed Authorization header');
  const scheme = match[1]!.toLowerCase();
  const value = match[2]!;
  if (scheme === 'bearer') return { kind: 'bearer', token: value };
  if (scheme !== 'basic') throw new RelayError('AUTH_FAILED', 'unsupported Authorization scheme');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) throw new RelayError('AUTH_FAILED', 'malformed Basic credential');
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  const secret = user !== '' ? user : password;
  if (secret === '') return undefined;
  return { kind: 'secret', secret };
}

/**
 * Splits a request target into its path, refusing any query string with
 * `BAD_REQUEST`: v1 endpoints take no query parameters, and credentials never travel
 * in a URL (they end up in proxy and access logs).
 */
export function pathWithoutQuery(url: string | undefined): string {
  const target = url ?? '/';
  if (target.includes('?') || target.includes('#')) {
    throw new RelayError('BAD_REQUEST', 'query strings are not accepted; send credentials in the Authorization header');
  }
  return target;
}
