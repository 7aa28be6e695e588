import { isIP } from 'node:net';
import { RelayError } from '../common/relayError.js';

/** The relay carriers a client can dial (docs/protocol.md §1). */
export type RelayScheme = 'wss' | 'tcps';

/** Default port of each carrier (docs/protocol.md §1). */
export const defaultRelayPorts: Readonly<Record<RelayScheme, number>> = { wss: 7443, tcps: 7444 };

/** A parsed relay URL. `display` is safe to print: it never carries the secret. */
export interface RelayEndpoint {
  readonly scheme: RelayScheme;
  /** Host name (lower case) or IP address, without IPv6 brackets. */
  readonly host: string;
  readonly port: number;
  /** Path prefix for wss (e.g. `/dbgrelay`), `''` when none; always `''` for tcps. */
  readonly basePath: string;
  /** Secret taken from the URL's user part (`wss://<secret>@host/...`), if any. */
  readonly secret?: string;
  /** `scheme://host:port[/base]`, without any credential. */
  readonly display: string;
}

/**
 * scheme://[userinfo@]host[:port][/path] (RFC 3986 §3). Parsed by hand rather than
 * with WHATWG `URL`, which drops an explicit default port (`wss://h:443`) and treats
 * `tcps:` hosts as opaque.
 */
const urlPattern = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(?:([^@/?#]*)@)?(\[[^\]/?#]*\]|[^:/?#[\]@]*)(?::([^/?#]*))?([^?#]*)([?#].*)?$/s;
const userinfoPattern = /^(?:[A-Za-z0-9._~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})*$/;
const hostNamePattern = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * Replaces the user part of a URL-like string with `***`, so a relay URL can appear
 * in a message even when it failed to parse.
 */
export function redactRelayUrl(url: string): string {
  return url.replace(/^([^:/?#]*:\/\/)[^@/?#]*@/s, '$1***@');
}

function refuse(url: string, why: string): RelayError {
  return new RelayError('BAD_REQUEST', `invalid relay URL "${redactRelayUrl(url)}": ${why}`);
}

/** Host as written in a URL authority: IPv6 addresses in brackets. */
export function hostForUrl(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/**
 * Parses a relay URL: `wss://host[:port][/base]` or `tcps://host[:port]`, IPv6 as
 * `[::1]`. Default ports are 7443 (wss) and 7444 (tcps). A `secret@` user part is
 * accepted as the credential (the ptvsd `wss://<secret>@site/ptvsd` form; the relay
 * secret or a target's attach secret), percent-decoded as UTF-8 (RFC 3986 §2.1,
 * §3.2.1), but never shown again; a query string or fragment is refused, because a credential must
 * never travel in one (docs/protocol.md §2). Throws `BAD_REQUEST`.
 */
export function parseRelayEndpoint(url: string): RelayEndpoint {
  const match = urlPattern.exec(url.trim());
  if (!match) throw refuse(url, 'expected wss://host:port[/path] or tcps://host:port');
  const [, rawScheme, userinfo, rawHost, rawPort, rawPath, rest] = match;
  const scheme = rawScheme!.toLowerCase();
  if (scheme !== 'wss' && scheme !== 'tcps') {
    throw refuse(url, `scheme "${scheme}" is not supported; use wss:// or tcps:// (TLS is required)`);
  }
  if (rest !== undefined) {
    throw refuse(url, 'a query string or fragment is not allowed (a credential never travels in a URL query; use DBGRELAY_SECRET or --secret-file)');
  }

  let host = rawHost!;
  if (host.startsWith('[')) {
    host = host.slice(1, -1);
    if (isIP(host) !== 6) throw refuse(url, 'the bracketed host is not an IPv6 address');
  } else if (isIP(host) !== 4) {
    if (!hostNamePattern.test(host)) throw refuse(url, host === '' ? 'the host is missing' : 'the host is not a valid name or address');
    host = host.toLowerCase().replace(/\.$/, '');
  }

  let port = defaultRelayPorts[scheme];
  if (rawPort !== undefined && rawPort !== '') {
    if (!/^\d{1,5}$/.test(rawPort) || Number(rawPort) < 1 || Number(rawPort) > 65535) {
      throw refuse(url, 'the port must be a number from 1 to 65535');
    }
    port = Number(rawPort);
  }

  const basePath = (rawPath ?? '').replace(/\/+$/, '');
  if (scheme === 'tcps' && basePath !== '') throw refuse(url, 'a tcps:// URL has no path');
  if (basePath !== '' && !/^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$/.test(basePath)) {
    throw refuse(url, 'the path contains characters that are not allowed');
  }

  let secret: string | undefined;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    if (colon >= 0 && userinfo.slice(colon + 1) !== '') {
      throw refuse(url, 'the user part must be "<secret>@" alone, without a password');
    }
    // RFC 3986 §3.2.1: userinfo = *( unreserved / pct-encoded / sub-delims / ":" );
    // anything else (space, '@', '/', ...) must be percent-encoded.
    if (!userinfoPattern.test(user)) {
      throw refuse(url, 'the user part has characters that must be percent-encoded (RFC 3986 §3.2.1)');
    }
    try {
      secret = decodeURIComponent(user);
    } catch {
      throw refuse(url, 'the user part is not valid percent-encoding');
    }
    if (secret === '') throw refuse(url, 'the user part is empty');
  }

  const display = `${scheme}://${hostForUrl(host)}:${port}${basePath}`;
  return { scheme, host, port, basePath, display, ...(secret !== undefined ? { secret } : {}) };
}

/**
 * For a wss URL whose path ends in `/ptvsd` (`wss://<secret>@site/ptvsd`, the App
 * Service form), the path before it: the base of the relay's other endpoints (`''` for
 * `/ptvsd` alone). Undefined for any other URL.
 */
export function ptvsdBasePath(endpoint: RelayEndpoint): string | undefined {
  if (endpoint.scheme !== 'wss' || !/(^|\/)ptvsd$/.test(endpoint.basePath)) return undefined;
  return endpoint.basePath.slice(0, -'/ptvsd'.length);
}

/** The path prefix of the relay's `/v1/...` endpoints: the URL's path, without a trailing `/ptvsd`. */
export function apiBasePath(endpoint: RelayEndpoint): string {
  return ptvsdBasePath(endpoint) ?? endpoint.basePath;
}
