import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientConfigPath, contextOf, readClientConfig } from '../../../src/config/clientConfigFile.js';
import { configErrorOf } from '../../support/harness/configTestKit.js';

/** A fresh home with `lines` as its client config file, and the environment that finds it. */
function homeWith(lines: readonly string[]): { env: NodeJS.ProcessEnv; file: string } {
  const home = mkdtempSync(join(tmpdir(), 'dbgrelay-client-config-'));
  const file = join(home, 'client.yaml');
  writeFileSync(file, lines.join('\n') + '\n');
  return { env: { HOME: home, DBGRELAY_CLIENT_CONFIG: file }, file };
}

describe('client config file', () => {
  it('is found through DBGRELAY_CLIENT_CONFIG, then XDG_CONFIG_HOME, then HOME', () => {
    expect(clientConfigPath({ HOME: '/home/a', XDG_CONFIG_HOME: '/xdg', DBGRELAY_CLIENT_CONFIG: '/etc/dbgrelay/client.yaml' })).toBe('/etc/dbgrelay/client.yaml');
    expect(clientConfigPath({ HOME: '/home/a', XDG_CONFIG_HOME: '/xdg' })).toBe('/xdg/dbgrelay/config.yaml');
    expect(clientConfigPath({ HOME: '/home/a', XDG_CONFIG_HOME: 'relative' })).toBe('/home/a/.config/dbgrelay/config.yaml');
    expect(clientConfigPath({ HOME: '/home/a' })).toBe('/home/a/.config/dbgrelay/config.yaml');
  });

  it('is empty when missing', () => {
    const file = readClientConfig({ HOME: '/nonexistent', DBGRELAY_CLIENT_CONFIG: '/nonexistent/config.yaml' });
    expect(file).toEqual({ path: '/nonexistent/config.yaml', exists: false, config: { contexts: {} } });
  });

  it('reads contexts, resolving relative paths against its directory and ~ against HOME', () => {
    const { env } = homeWith([
      'current-context: prod',
      'contexts:',
      '  prod: { relay: "wss://relay.example.com", ca: certs/ca.pem, token-file: ~/.prod-token }',
      '  lab:',
      '    relay: tcps://lab:7444',
      '    fingerprints: [sha256:aa]',
      '    secret-env: LAB_SECRET',
      '    cert: /etc/me.pem',
      '    key: me-key.pem',
    ]);
    const { config } = readClientConfig(env);
    expect(config['current-context']).toBe('prod');
    expect(config.contexts['prod']).toEqual({ relay: 'wss://relay.example.com', ca: join(env['HOME']!, 'certs/ca.pem'), 'token-file': join(env['HOME']!, '.prod-token') });
    expect(config.contexts['lab']).toMatchObject({ fingerprints: ['sha256:aa'], 'secret-env': 'LAB_SECRET', cert: '/etc/me.pem', key: join(env['HOME']!, 'me-key.pem') });
  });

  it('names the file and line of an unknown key, with the closest known key', () => {
    const { env, file } = homeWith(['contexts:', '  prod:', '    relay: wss://r', '    secert-file: /s', 'curent-context: prod']);
    const message = configErrorOf(() => readClientConfig(env));
    expect(message).toContain(`contexts.prod.secert-file: unknown key; did you mean "secret-file"? (from ${file}:4)`);
    expect(message).toContain(`curent-context: unknown key; did you mean "current-context"? (from ${file}:5)`);
  });

  it('names the file and line of malformed YAML and of a value of the wrong type', () => {
    const broken = homeWith(['contexts:', '  prod: {relay: wss://r', '']);
    expect(configErrorOf(() => readClientConfig(broken.env))).toMatch(new RegExp(`^config file ${broken.file}:\\d+: `));
    const wrongType = homeWith(['contexts:', '  prod:', '    fingerprints: sha256:aa']);
    expect(configErrorOf(() => readClientConfig(wrongType.env))).toContain(
      `contexts.prod.fingerprints: expected a list of sha256: fingerprints, given "sha256:aa" (from ${wrongType.file}:3)`,
    );
  });

  it('refuses a secret written in the file, by key or in the relay URL, without quoting it', () => {
    const byKey = homeWith(['contexts:', '  prod:', '    relay: wss://r', '    secret: hunter2-secret']);
    const keyMessage = configErrorOf(() => readClientConfig(byKey.env));
    expect(keyMessage).toContain(`contexts.prod.secret: a secret is not kept in the client config file (${byKey.file}:4)`);
    expect(keyMessage).not.toContain('hunter2');
    const inUrl = homeWith(['contexts:', '  prod:', '    relay: wss://hunter2@relay.example.com']);
    const urlMessage = configErrorOf(() => readClientConfig(inUrl.env));
    expect(urlMessage).toContain('contexts.prod.relay: a secret in the relay URL is not kept in the client config file');
    expect(urlMessage).not.toContain('hunter2');
  });

  it('refuses two trusts, two credential sources and a certificate without its key', () => {
    const { env } = homeWith(['contexts:', '  a: { ca: /ca.pem, fingerprints: [sha256:aa] }', '  b: { secret-file: /s, token-env: T }', '  c: { cert: /c.pem }']);
    const message = configErrorOf(() => readClientConfig(env));
    expect(message).toContain('contexts.a.fingerprints: give either ca or fingerprints, not both');
    expect(message).toContain('contexts.b.token-env: give one credential source, not secret-file and token-env');
    expect(message).toContain('contexts.c.key: give both cert and key, or neither');
  });

  it('lists the known contexts for an unknown one, with a "did you mean"', () => {
    const { env, file } = homeWith(['contexts:', '  production: { relay: wss://p }', '  staging: { relay: wss://s }']);
    const config = readClientConfig(env);
    expect(contextOf(config, 'staging', '--context')).toEqual({ relay: 'wss://s' });
    expect(configErrorOf(() => contextOf(config, 'prodution', '--context'))).toBe(
      `--context: no context "prodution" in ${file} (known contexts: production, staging); did you mean "production"?`,
    );
    expect(configErrorOf(() => contextOf(readClientConfig({ DBGRELAY_CLIENT_CONFIG: '/nonexistent/c.yaml' }), 'prod', 'DBGRELAY_CONTEXT'))).toMatch(
      /^DBGRELAY_CONTEXT: no context "prod": there is no client config file at \/nonexistent\/c\.yaml \(create one with dbgrelay config set-context prod/,
    );
  });
});
