import { describe, expect, it } from 'vitest';
import { noProxyMatches } from '../../../src/dial/noProxy.js';

/**
 * NO_PROXY matching of the TypeScript client. agent-py/tests/test_proxyenv.py runs the
 * same rows against the Python agent: keep them in step.
 */
const rows: ReadonlyArray<readonly [noProxy: string, host: string, port: number, bypass: boolean]> = [
  ['', 'relay.example.com', 443, false],
  ['*', 'relay.example.com', 443, true],
  ['example.com', 'example.com', 443, true],
  ['example.com', 'relay.example.com', 443, true],
  ['.example.com', 'relay.example.com', 443, true],
  ['*.example.com', 'relay.example.com', 443, true],
  ['.example.com', 'example.com', 443, true],
  ['example.com', 'notexample.com', 443, false],
  ['EXAMPLE.com', 'Relay.Example.COM', 443, true],
  ['example.com:7443', 'relay.example.com', 7443, true],
  ['example.com:7443', 'relay.example.com', 7444, false],
  ['other.org, example.com', 'relay.example.com', 443, true],
  ['other.org  example.com', 'relay.example.com', 443, true],
  ['localhost', '127.0.0.1', 7443, false],
  ['127.0.0.1', 'localhost', 7443, false],
  ['127.0.0.1', '127.0.0.1', 7443, true],
  ['127.0.0.1:7443', '127.0.0.1', 7443, true],
  ['127.0.0.1:7443', '127.0.0.1', 7444, false],
  ['127.0.0.0/8', '127.0.0.2', 7443, true],
  ['10.0.0.0/8', '11.0.0.1', 7443, false],
  ['10.0.0.0/8', '10.example.com', 7443, false],
  ['::1', '::1', 7443, true],
  ['[::1]:7443', '::1', 7443, true],
  ['[::1]:7443', '::1', 7444, false],
  ['fd00::/8', 'fd12::5', 7443, true],
  ['fd00::/8', '10.0.0.1', 7443, false],
  ['relay.example.com.', 'relay.example.com', 443, true],
  [',, ,', 'relay.example.com', 443, false],
];

describe('noProxyMatches', () => {
  it.each(rows)('NO_PROXY=%j, relay %s:%d -> bypass %s', (noProxy, host, port, bypass) => {
    expect(noProxyMatches(noProxy, host, port)).toBe(bypass);
  });
});
