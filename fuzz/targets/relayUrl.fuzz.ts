import { apiBasePath, hostForUrl, parseRelayEndpoint, ptvsdBasePath, redactRelayUrl } from '../../src/dial/relayEndpoint.js';
import { check, within } from './contract.js';

/**
 * Relay URLs (src/dial/relayEndpoint.ts): `wss://[secret@]host[:port][/base]`,
 * `tcps://[secret@]host[:port]`. Asserts: an endpoint or `BAD_REQUEST`; a refusal
 * never shows the user part; `display` never carries the secret and parses back to the
 * same endpoint (without the secret); the ptvsd helpers never throw.
 */
export function fuzz(data: Buffer): void {
  const url = data.toString('utf8');
  const redacted = redactRelayUrl(url);
  let refusal: Error | undefined;
  const endpoint = within(['BAD_REQUEST'], 'parseRelayEndpoint', () => {
    try {
      return parseRelayEndpoint(url);
    } catch (error) {
      refusal = error as Error;
      throw error;
    }
  });
  // `scheme://user@` is shown as `scheme://***@`, in a refusal too.
  const authority = /^([^:/?#]*:\/\/)([^@/?#]*)@/s.exec(url);
  const shownAs = authority ? `${authority[1]}***@` : undefined;
  if (endpoint === undefined) {
    if (authority && authority[2]!.length > 0) {
      check(redacted.startsWith(shownAs!), 'redactRelayUrl left the user part');
      check(!refusal!.message.includes(url), 'a refused relay URL is quoted with its user part');
    }
    return;
  }
  if (endpoint.secret !== undefined) check(shownAs !== undefined && redacted.startsWith(shownAs), 'redactRelayUrl left the secret');
  // What is shown is made of the host, port and path only (never the secret).
  check(endpoint.display === `${endpoint.scheme}://${hostForUrl(endpoint.host)}:${endpoint.port}${endpoint.basePath}`, 'display is not scheme://host:port/base');
  const again = parseRelayEndpoint(endpoint.display);
  check(
    again.scheme === endpoint.scheme && again.host === endpoint.host && again.port === endpoint.port && again.basePath === endpoint.basePath && again.secret === undefined,
    `display ${JSON.stringify(endpoint.display)} does not parse back to the same endpoint`,
  );
  ptvsdBasePath(endpoint);
  apiBasePath(endpoint);
}
