import type { IncomingHttpHeaders } from 'node:http';
import { credentialFromAuthorization, pathWithoutQuery } from '../../src/auth/credentialParser.js';
import { trustedProxyList } from '../../src/config/frontEndConfigSchema.js';
import { isPtvsdPath } from '../../src/listeners/ptvsdEndpoint.js';
import { clientOrigin, originFields, parseForwardedElement, refuseCleartextOrigin } from '../../src/listeners/forwardedClient.js';
import { isUpgradeOnlyPath, parseUpgradeRoute, requireWebSocketHandshake, takeoverRequested } from '../../src/listeners/upgradeRoutes.js';
import { check, ContractViolation, within } from './contract.js';

/** Front ends the relay believes (frontEnd.trustedProxies), and the peers the first byte picks from. */
const trusted = trustedProxyList(['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8']);
const peers = ['127.0.0.1', '::ffff:127.0.0.1', '10.1.2.3', '::1', 'fd00::7', '203.0.113.9', '2001:db8::1', 'fe80::1%eth0'];

/** Headers Node keeps the first of when a request repeats them (the others it joins with ", "). */
const firstWins = new Set([
  'authorization',
  'host',
  'content-type',
  'content-length',
  'user-agent',
  'referer',
  'from',
  'location',
  'max-forwards',
  'retry-after',
  'etag',
  'last-modified',
  'server',
  'age',
  'expires',
  'proxy-authorization',
  'if-modified-since',
  'if-unmodified-since',
]);

/**
 * A request head (`METHOD SP target SP version CRLF`, header lines, as RFC 9112 §2-§5
 * has them) turned into what Node's `IncomingMessage` gives the relay: lower-case
 * names, values trimmed, repeats joined or dropped as Node does. Lines Node's parser
 * would refuse (no colon, CR/LF/NUL inside) make the request undefined: it never
 * reaches the relay's code.
 */
function requestHead(text: string): { method: string; url: string; headers: IncomingHttpHeaders } | undefined {
  const [requestLine, ...lines] = text.split('\r\n');
  const parts = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/1\.[01]$/.exec(requestLine ?? '');
  if (!parts) return undefined;
  const headers: IncomingHttpHeaders = {};
  for (const line of lines) {
    if (line === '') break;
    const field = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):([^\0\r\n]*)$/.exec(line);
    if (!field) return undefined;
    const name = field[1]!.toLowerCase();
    const value = field[2]!.trim();
    const before = headers[name];
    if (before === undefined) headers[name] = value;
    else if (!firstWins.has(name)) headers[name] = `${String(before)}, ${value}`;
  }
  return { method: parts[1]!, url: parts[2]!, headers };
}

/**
 * The handling of an HTTP upgrade request (src/listeners/httpsListener.ts `upgrade`, in its
 * order): client origin behind trusted front ends (forwardedClient.ts), the path
 * (credentialParser.ts `pathWithoutQuery`, upgradeRoutes.ts), the WebSocket handshake
 * headers, `X-Forwarded-Proto`, `X-Dbgrelay-Takeover` and the `Authorization` header.
 * The first byte picks the TCP peer; the rest is the request head, in Latin-1 as Node
 * decodes it. Asserts: `clientOrigin` never throws; every other step returns or throws
 * a RelayError with the code the relay maps to its HTTP refusal; a route the parser
 * accepts is one `isUpgradeOnlyPath` knows.
 */
export function fuzz(data: Buffer): void {
  if (data.length === 0) return;
  const peer = { remoteAddress: peers[data[0]! % peers.length]!, remotePort: 50000 + data[0]! };
  const request = requestHead(data.subarray(1).toString('latin1'));
  if (request === undefined) return;
  const { method, url, headers } = request;

  let origin;
  try {
    origin = clientOrigin(peer, headers, trusted);
  } catch (error) {
    throw new ContractViolation(`clientOrigin threw: ${String(error)}`, { cause: error });
  }
  originFields(origin);
  for (const element of String(headers['x-forwarded-for'] ?? '').split(',')) parseForwardedElement(element);

  const path = within(['BAD_REQUEST'], 'pathWithoutQuery', () => pathWithoutQuery(url));
  if (path === undefined) return;
  isPtvsdPath(path);
  const route = within(['NOT_FOUND', 'UNKNOWN_SESSION', 'BAD_REQUEST'], 'parseUpgradeRoute', () => parseUpgradeRoute(path));
  if (route !== undefined) check(isUpgradeOnlyPath(path), `parseUpgradeRoute accepts ${JSON.stringify(path)} but isUpgradeOnlyPath does not`);
  within(['BAD_REQUEST'], 'requireWebSocketHandshake', () => requireWebSocketHandshake({ method, headers }));
  within(['BAD_REQUEST'], 'refuseCleartextOrigin', () => refuseCleartextOrigin(origin));
  within(['BAD_REQUEST'], 'takeoverRequested', () => takeoverRequested(headers));
  const credential = within(['AUTH_FAILED'], 'credentialFromAuthorization', () => credentialFromAuthorization(headers.authorization));
  if (credential?.kind === 'secret') check(credential.secret !== '', 'an empty secret became a credential');
}
