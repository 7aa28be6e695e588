import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/loadConfig.js';
import { parseDebugpyAddress, parseSshUrl } from '../../../src/config/sshTargetConfigSchema.js';
import { configErrorOf, configFile, configTestEnv as env } from '../../support/harness/configTestKit.js';

const pin = 'SHA256:TSq0PdKkc9+MrlMaNLWKNXi1TsMRbVAmFpDzioa5vqA';

const load = (lines: string[]) => loadConfig({ env, flags: { config: configFile(lines) } });

const errorOf = (lines: string[]): string => configErrorOf(() => load(lines));

const target = (ssh: string, extra = '') => ['targets:', `  db-1: { url: "ssh://deploy@db-1.internal:2222"${extra}, ssh: ${ssh} }`];

describe('ssh target options', () => {
  it('fill in the bounds, keep the host key source and resolve relative paths against the config file', () => {
    const file = configFile([...target(`{ identityFile: keys/id_ed25519, knownHostsFile: known_hosts }`, ', debugpy: "127.0.0.1:5679"')]);
    const config = loadConfig({ env, flags: { config: file } });
    const base = file.slice(0, -'/relay.yaml'.length);
    expect(config.targets['db-1']).toEqual({
      url: 'ssh://deploy@db-1.internal:2222',
      debugpy: '127.0.0.1:5679',
      ssh: {
        identityFile: `${base}/keys/id_ed25519`,
        knownHostsFile: `${base}/known_hosts`,
        keepaliveIntervalMs: 15000,
        keepaliveCountMax: 3,
        readyTimeoutMs: 8000,
        idleTimeoutMs: 300000,
        jump: [],
      },
    });
  });

  it('require a host key source and never accept any host key, naming the key', () => {
    expect(errorOf(target('{ identityFile: /k }'))).toMatch(/targets\.db-1\.ssh\.knownHostsFile: one of knownHostsFile or hostKey is required/);
    expect(errorOf(['targets:', '  db-1: { url: "ssh://deploy@db-1" }'])).toMatch(
      /targets\.db-1\.ssh: required for ssh:\/\/ targets: knownHostsFile or hostKey, and identityFile or agent/,
    );
    expect(errorOf(target(`{ identityFile: /k, knownHostsFile: /kh, hostKey: "${pin}" }`))).toMatch(/targets\.db-1\.ssh\.hostKey: give either knownHostsFile or hostKey, not both/);
    expect(errorOf(target(`{ identityFile: /k, insecureAcceptAnyHostKey: true, hostKey: "${pin}" }`))).toMatch(/targets\.db-1\.ssh\.insecureAcceptAnyHostKey: unknown key/);
  });

  it('refuse fingerprints that are not SHA256:base64 as ssh-keygen prints them', () => {
    expect(errorOf(target('{ identityFile: /k, hostKey: "MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48" }'))).toMatch(
      /targets\.db-1\.ssh\.hostKey: expected a fingerprint such as SHA256:/,
    );
    expect(errorOf(target(`{ identityFile: /k, hostKey: "${pin}=" }`))).toMatch(/targets\.db-1\.ssh\.hostKey/);
    expect(load(target(`{ identityFile: /k, hostKey: ["${pin}", "${pin}"] }`)).targets['db-1']?.ssh?.hostKey).toEqual([pin, pin]);
  });

  it('require a credential, and a passphrase source only with a key file', () => {
    expect(errorOf(target('{ knownHostsFile: /kh }'))).toMatch(/targets\.db-1\.ssh\.identityFile: one of identityFile or agent is required/);
    expect(errorOf(target('{ agent: false, knownHostsFile: /kh }'))).toMatch(/one of identityFile or agent is required/);
    expect(errorOf(target('{ agent: true, passphraseEnv: P, knownHostsFile: /kh }'))).toMatch(/targets\.db-1\.ssh\.passphraseEnv: only with identityFile/);
    expect(errorOf(target('{ identityFile: /k, passphraseEnv: P, passphraseFile: /p, knownHostsFile: /kh }'))).toMatch(/targets\.db-1\.ssh\.passphraseFile: give either/);
    expect(load(target('{ agent: true, knownHostsFile: /kh }')).targets['db-1']?.ssh?.agent).toBe(true);
  });

  it('check the URL, the debugpy address, bounds and every jump host', () => {
    expect(errorOf(['targets:', `  db-1: { url: "ssh://db-1", ssh: { agent: true, hostKey: "${pin}" } }`])).toMatch(/targets\.db-1\.url: expected a user/);
    expect(errorOf(target(`{ agent: true, hostKey: "${pin}" }`, ', debugpy: "5678"'))).toMatch(/targets\.db-1\.debugpy: expected host:port/);
    expect(errorOf(target(`{ agent: true, hostKey: "${pin}", keepaliveCountMax: 0 }`))).toMatch(/targets\.db-1\.ssh\.keepaliveCountMax: expected integer between 1 and 100/);
    expect(errorOf(target(`{ agent: true, hostKey: "${pin}", jump: [{ url: "ssh://bastion", agent: true, hostKey: "${pin}" }] }`))).toMatch(
      /targets\.db-1\.ssh\.jump\.0\.url: expected a user/,
    );
    expect(errorOf(target(`{ agent: true, hostKey: "${pin}", jump: [{ url: "ssh://j@bastion", agent: true }] }`))).toMatch(
      /targets\.db-1\.ssh\.jump\.0\.knownHostsFile: one of knownHostsFile or hostKey is required/,
    );
    expect(errorOf(['targets:', `  t: { url: "tcp://127.0.0.1:1", ssh: { agent: true, hostKey: "${pin}" } }`])).toMatch(/targets\.t\.ssh: only for ssh:\/\/ targets/);
  });

  it('parse ssh URLs and debugpy addresses', () => {
    expect(parseSshUrl('ssh://deploy@db-1')).toEqual({ user: 'deploy', host: 'db-1', port: 22 });
    expect(parseSshUrl('ssh://deploy@[::1]:2222')).toEqual({ user: 'deploy', host: '::1', port: 2222 });
    expect(parseSshUrl('ssh://deploy:pw@db-1')).toMatch(/no password/);
    expect(parseDebugpyAddress('127.0.0.1:5678')).toEqual({ host: '127.0.0.1', port: 5678 });
    expect(parseDebugpyAddress('[::1]:5678')).toEqual({ host: '::1', port: 5678 });
    expect(parseDebugpyAddress('localhost:0')).toMatch(/expected host:port/);
  });

  // Found by fuzzing (fuzz/regressions/config/): WHATWG URL keeps a bare `%` in the user,
  // and decoding it threw URIError out of loadConfig instead of CONFIG_INVALID.
  it('refuse a user with a malformed percent-encoding, naming the key', () => {
    expect(parseSshUrl('ssh://d%ploy@db-1')).toMatch(/valid percent-encoding/);
    expect(parseSshUrl('ssh://d%2Fploy@db-1')).toEqual({ user: 'd/ploy', host: 'db-1', port: 22 });
    expect(errorOf(target(`{ agent: true, hostKey: "${pin}", jump: [{ url: "ssh://d%ploy@bastion", agent: true, hostKey: "${pin}" }] }`))).toMatch(
      /targets\.db-1\.ssh\.jump\.0\.url: expected a user with valid percent-encoding/,
    );
  });
});
