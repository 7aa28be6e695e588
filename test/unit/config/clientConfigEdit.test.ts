import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deleteClientContext, setClientContext, useClientContext } from '../../../src/config/clientConfigEdit.js';
import { readClientConfig } from '../../../src/config/clientConfigFile.js';
import { configErrorOf } from '../../support/harness/configTestKit.js';

/** A fresh XDG config home (no file yet). */
function freshHome(): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), 'dbgrelay-client-edit-'));
  return { HOME: home, XDG_CONFIG_HOME: join(home, 'xdg') };
}

describe('client config edits', () => {
  it('create the directory (0700) and the file (0600) on the first set-context', () => {
    const env = freshHome();
    const path = setClientContext(env, 'prod', { relay: 'wss://relay.example.com', ca: '/etc/ca.pem', 'secret-file': '/run/secret' });
    expect(path).toBe(join(env['XDG_CONFIG_HOME']!, 'dbgrelay', 'config.yaml'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(env['XDG_CONFIG_HOME']!, 'dbgrelay')).mode & 0o777).toBe(0o700);
    expect(readClientConfig(env).config.contexts['prod']).toEqual({ relay: 'wss://relay.example.com', ca: '/etc/ca.pem', 'secret-file': '/run/secret' });
  });

  it('change only the values given; a trust or credential source replaces the one before; comments stay', () => {
    const env = freshHome();
    const path = setClientContext(env, 'prod', { relay: 'wss://a', ca: '/ca.pem', 'secret-file': '/s' });
    writeFileSync(path, `# my relays\n${readFileSync(path, 'utf8')}`);
    setClientContext(env, 'prod', { fingerprints: ['sha256:aa'], 'token-env': 'PROD_TOKEN' });
    expect(readClientConfig(env).config.contexts['prod']).toEqual({ relay: 'wss://a', fingerprints: ['sha256:aa'], 'token-env': 'PROD_TOKEN' });
    expect(readFileSync(path, 'utf8')).toMatch(/^# my relays\n/);
  });

  it('switch the current context only to a known one, and delete contexts', () => {
    const env = freshHome();
    setClientContext(env, 'prod', { relay: 'wss://p' });
    setClientContext(env, 'staging', { relay: 'wss://s' });
    expect(configErrorOf(() => useClientContext(env, 'stagin'))).toMatch(/use-context: no context "stagin" in .* \(known contexts: prod, staging\); did you mean "staging"\?/);
    useClientContext(env, 'staging');
    expect(readClientConfig(env).config['current-context']).toBe('staging');
    deleteClientContext(env, 'staging');
    expect(readClientConfig(env).config).toEqual({ contexts: { prod: { relay: 'wss://p' } } });
  });

  it('refuse what the file would refuse, and leave the file as it was', () => {
    const env = freshHome();
    const path = setClientContext(env, 'prod', { relay: 'wss://p' });
    const before = readFileSync(path, 'utf8');
    expect(configErrorOf(() => setClientContext(env, 'prod', { relay: 'wss://hunter2@p' }))).not.toContain('hunter2');
    expect(configErrorOf(() => setClientContext(env, 'prod', { cert: '/c.pem' }))).toContain('give both cert and key');
    expect(configErrorOf(() => setClientContext(env, '-bad name', { relay: 'wss://p' }))).toContain('a context name is');
    expect(readFileSync(path, 'utf8')).toBe(before);
  });
});
