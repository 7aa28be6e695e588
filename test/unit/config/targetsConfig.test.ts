import { describe, expect, it } from 'vitest';
import { configErrorOf, configFile, configTestEnv } from '../../support/harness/configTestKit.js';
import { loadConfig } from '../../../src/config/loadConfig.js';
import { parseTargetUrl } from '../../../src/config/targetsConfigSchema.js';

const env = configTestEnv;

/** The CONFIG_INVALID message of a config file with `lines`. */
const errorOf = (lines: string[]): string => configErrorOf(() => loadConfig({ env, flags: { config: configFile(lines) } }));

describe('configured targets', () => {
  it('default to none, and read tcp sidecars with labels from the file', () => {
    expect(loadConfig({ env }).targets).toEqual({});
    const config = loadConfig({ env, flags: { config: configFile(['targets:', '  web-1: { url: "tcp://127.0.0.1:5678", labels: { app: web } }']) } });
    expect(config.targets['web-1']).toEqual({ url: 'tcp://127.0.0.1:5678', labels: { app: 'web' } });
  });

  it('refuse plain tcp to a host that is not loopback unless opted in, naming the key', () => {
    const message = errorOf(['targets:', '  web-1: { url: "tcp://10.0.0.5:5678" }']);
    expect(message).toContain('targets.web-1.url');
    expect(message).toMatch(/only loopback hosts, unless allowRemotePlaintext/);
    const config = loadConfig({ env, flags: { config: configFile(['targets:', '  web-1: { url: "tcp://10.0.0.5:5678", allowRemotePlaintext: true }']) } });
    expect(config.targets['web-1']?.allowRemotePlaintext).toBe(true);
  });

  it('refuse bad URLs, names and keys of another scheme without quoting the value', () => {
    expect(errorOf(['targets:', '  w: { url: "http://127.0.0.1:5678" }'])).toMatch(/targets\.w\.url: scheme must be one of tcp:\/\/, tcps:\/\/, ssh:\/\//);
    expect(errorOf(['targets:', '  w: { url: "tcp://127.0.0.1" }'])).toMatch(/targets\.w\.url: expected a port/);
    expect(errorOf(['targets:', '  w: { url: "tcp://127.0.0.1:1", secretFile: /x }'])).toMatch(/targets\.w\.secretFile: only for tcps:\/\/ targets/);
    expect(errorOf(['targets:', '  w: { url: "tcp://127.0.0.1:1", debugpy: "127.0.0.1:5678" }'])).toMatch(/targets\.w\.debugpy: only for ssh:\/\/ targets/);
    expect(errorOf(['targets:', '  "bad/name": { url: "tcp://127.0.0.1:1" }'])).toMatch(/targets/);
    const secretInPassword = errorOf(['targets:', '  w: { url: "tcps://user:hunter2@127.0.0.1:1" }']);
    expect(secretInPassword).toMatch(/no password in the URL/);
    expect(secretInPassword).not.toContain('hunter2');
  });

  it('split URLs into scheme, host, port and the credential part', () => {
    expect(parseTargetUrl('ssh://deploy@db-1')).toEqual({ scheme: 'ssh', host: 'db-1', port: undefined, userInfo: 'deploy' });
    expect(parseTargetUrl('tcps://s%40cret@[::1]:5678')).toEqual({ scheme: 'tcps', host: '[::1]', port: 5678, userInfo: 's@cret' });
    expect(parseTargetUrl('tcp://user@127.0.0.1:1')).toBe('tcp:// carries no credentials');
    expect(parseTargetUrl('tcp://127.0.0.1:1/path')).toBe('expected no path, query or fragment');
    // Found by fuzzing (fuzz/regressions/config/): a bare `%` made decoding throw URIError.
    expect(parseTargetUrl('tcps://s%cret@[::1]:5678')).toMatch(/valid percent-encoding/);
  });
});
