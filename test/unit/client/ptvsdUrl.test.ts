import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../../src/common/relayError.js';
import { dialSession } from '../../../src/dial/relayDialer.js';
import { apiBasePath, parseRelayEndpoint, ptvsdBasePath } from '../../../src/dial/relayEndpoint.js';
import { systemTrust } from '../../../src/dial/tlsTrust.js';

describe('wss://SECRET@host/ptvsd URLs', () => {
  it('keep the secret out of the display and point the API at the base before /ptvsd', () => {
    const endpoint = parseRelayEndpoint('wss://s3cr%40t@site.example/ptvsd');
    expect(endpoint).toMatchObject({ scheme: 'wss', host: 'site.example', port: 7443, basePath: '/ptvsd', secret: 's3cr@t' });
    expect(endpoint.display).toBe('wss://site.example:7443/ptvsd');
    expect(ptvsdBasePath(endpoint)).toBe('');
    expect(apiBasePath(endpoint)).toBe('');
    const prefixed = parseRelayEndpoint('wss://site.example:443/debug/ptvsd/');
    expect([ptvsdBasePath(prefixed), apiBasePath(prefixed)]).toEqual(['/debug', '/debug']);
  });

  it('are not ptvsd URLs when the path only looks like one', () => {
    for (const url of ['wss://site.example/xptvsd', 'wss://site.example/ptvsd/more', 'wss://site.example', 'tcps://site.example:7444']) {
      const endpoint = parseRelayEndpoint(url);
      expect(ptvsdBasePath(endpoint)).toBeUndefined();
      expect(apiBasePath(endpoint)).toBe(endpoint.basePath);
    }
  });

  it('need no target, while other URLs do', async () => {
    const error = await dialSession({ endpoint: parseRelayEndpoint('tcps://127.0.0.1:1'), trust: systemTrust }).catch((e: unknown) => e);
    expect(isRelayError(error, 'BAD_REQUEST')).toBe(true);
    expect((error as Error).message).toMatch(/name a target, or use a wss:\/\/<secret>@host\/ptvsd URL/);
    // a ptvsd URL gets as far as dialing (nothing listens on port 1)
    const unreachable = await dialSession({ endpoint: parseRelayEndpoint('wss://127.0.0.1:1/ptvsd'), trust: systemTrust, env: {} }).catch((e: unknown) => e);
    expect(isRelayError(unreachable, 'RELAY_UNREACHABLE')).toBe(true);
  });
});
