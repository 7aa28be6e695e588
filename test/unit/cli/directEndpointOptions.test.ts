import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isEndpointUrl, resolveDirectConnection } from '../../../src/cli/directEndpointOptions.js';
import { isRelayError } from '../../../src/common/relayError.js';

const dir = mkdtempSync(join(tmpdir(), 'direct-options-'));
const secretFile = join(dir, 'secret');
writeFileSync(secretFile, 'from-file\n');

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return isRelayError(error) ? error.code : String(error);
  }
  return undefined;
}

describe('dbgrelay attach tcps://[SECRET@]host[:port] (direct endpoint)', () => {
  it('tells an endpoint URL from a target name', () => {
    expect(isEndpointUrl('tcps://s3cret@10.0.0.5:5678')).toBe(true);
    expect(isEndpointUrl('wss://h')).toBe(true);
    expect(isEndpointUrl('web-1')).toBe(false);
  });

  it("takes the secret from the URL, else --secret-file, else DBGRELAY_SECRET, never the dev relay's secret file", () => {
    const url = resolveDirectConnection('tcps://s%40cret@10.0.0.5:6000', {}, {});
    expect([url.secret, url.endpoint.port, url.endpoint.display, url.endpoint.secret]).toEqual(['s@cret', 6000, 'tcps://10.0.0.5:6000', undefined]);
    expect(url.notes.join('\n')).toMatch(/visible to other local users/);
    expect(resolveDirectConnection('tcps://10.0.0.5', { secretFile }, { DBGRELAY_SECRET: 'env' }).secret).toBe('from-file');
    const env = resolveDirectConnection('tcps://host.example', {}, { DBGRELAY_SECRET: 'env' });
    expect([env.secret, env.endpoint.port, env.endpoint.display, env.trust.kind]).toEqual(['env', 5678, 'tcps://host.example:5678', 'system']);
    const none = resolveDirectConnection('tcps://[::1]', {}, { DBGRELAY_DATA_DIR: dir }); // dir/secret exists: not used
    expect([none.secret, none.endpoint.display]).toEqual([undefined, 'tcps://[::1]:5678']);
    expect(none.notes.join('\n')).toMatch(/AUTH_REQUIRED/);
    expect(resolveDirectConnection('tcps://h:1', { fingerprint: [`sha256:${'a'.repeat(64)}`] }, {}).trust.kind).toBe('pin');
  });

  it('refuses what does not apply to a direct endpoint', () => {
    expect(codeOf(() => resolveDirectConnection('wss://s@h:1', {}, {}))).toBe('CONFIG_INVALID');
    expect(codeOf(() => resolveDirectConnection('tcps://s@h:1', { relay: 'tcps://r:7444' }, {}))).toBe('CONFIG_INVALID');
    expect(codeOf(() => resolveDirectConnection('tcps://s@h:1', { tokenFile: secretFile }, {}))).toBe('CONFIG_INVALID');
    expect(codeOf(() => resolveDirectConnection('tcps://s@h:1', { takeover: true }, {}))).toBe('CONFIG_INVALID');
    expect(codeOf(() => resolveDirectConnection('tcps://s@h:1', { secretFile }, {}))).toBe('CONFIG_INVALID');
    expect(codeOf(() => resolveDirectConnection('tcps://s@h:1?x=1', {}, {}))).toBe('BAD_REQUEST');
  });
});
