import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyClientContext } from '../../../src/cli/clientContext.js';
import { resolveClientConnection } from '../../../src/cli/clientOptions.js';
import { credentialSourceOf } from '../../../src/cli/credentialSource.js';
import { isRelayError } from '../../../src/common/relayError.js';
import { testCertificates } from '../../support/keys/testCertificates.js';

const pin = `sha256:${'ab'.repeat(32)}`;

/**
 * A fresh home whose client config has the contexts `prod` (current: wss, a CA file, a
 * secret file, a client certificate) and `lab` (tcps, a pin, a token from LAB_TOKEN),
 * and an empty data directory (no development defaults).
 */
function home(): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-context-'));
  const certs = testCertificates();
  writeFileSync(join(dir, 'ca.pem'), certs.caPem);
  writeFileSync(join(dir, 'prod-secret'), 'prod-secret-value\n');
  writeFileSync(join(dir, 'flag-secret'), 'flag-secret-value\n');
  writeFileSync(
    join(dir, 'client.yaml'),
    [
      'current-context: prod',
      'contexts:',
      '  prod: { relay: "wss://prod.example.com:443", ca: ca.pem, secret-file: prod-secret, cert: me.pem, key: me-key.pem }',
      `  lab: { relay: "tcps://lab.example.com:7444", fingerprints: ["${pin}"], token-env: LAB_TOKEN }`,
    ].join('\n'),
  );
  return { HOME: dir, DBGRELAY_CLIENT_CONFIG: join(dir, 'client.yaml'), DBGRELAY_DATA_DIR: join(dir, 'data'), LAB_TOKEN: 'lab.token.value' };
}

describe('client contexts in resolveClientConnection', () => {
  it('take relay, trust, credential and client certificate from the current context, and say so', () => {
    const env = home();
    const connection = resolveClientConnection({}, env);
    expect(connection).toMatchObject({ endpoint: { display: 'wss://prod.example.com:443' }, trust: { kind: 'ca' }, secret: 'prod-secret-value' });
    expect(connection.identityFiles).toEqual({ cert: join(env['HOME']!, 'me.pem'), key: join(env['HOME']!, 'me-key.pem') });
    expect(connection.notes[0]).toBe(
      `context "prod" (current-context of ${env['DBGRELAY_CLIENT_CONFIG']}): relay wss://prod.example.com:443, ca ${join(env['HOME']!, 'ca.pem')}, secret-file ${join(env['HOME']!, 'prod-secret')}, cert ${join(env['HOME']!, 'me.pem')}`,
    );
    expect(credentialSourceOf({}, connection, env).description).toBe(`the secret in secret-file ${join(env['HOME']!, 'prod-secret')} of context "prod"`);
    expect(connection.notes.join('\n')).not.toContain('prod-secret-value');
  });

  it('switch with --context, else DBGRELAY_CONTEXT, and pass an -env credential on as a token', () => {
    const env = home();
    const lab = resolveClientConnection({ context: 'lab' }, { ...env, DBGRELAY_CONTEXT: 'prod' });
    expect(lab).toMatchObject({ endpoint: { display: 'tcps://lab.example.com:7444' }, trust: { kind: 'pin', fingerprints: [pin] } });
    expect(lab.token?.()).toBe('lab.token.value');
    expect(lab.notes[0]).toMatch(/^context "lab" \(--context\)/);
    const fromEnv = resolveClientConnection({}, { ...env, DBGRELAY_CONTEXT: 'lab' });
    expect(fromEnv.notes[0]).toMatch(/^context "lab" \(DBGRELAY_CONTEXT\)/);
    expect(() => resolveClientConnection({ context: 'lab' }, { ...env, LAB_TOKEN: '' })).toThrow(/context "lab": token-env names LAB_TOKEN, which is not set/);
  });

  it('let flags and then environment variables win over the context, part by part', () => {
    const env = home();
    const flagged = resolveClientConnection({ fingerprint: [pin], secretFile: join(env['HOME']!, 'flag-secret') }, env);
    expect(flagged).toMatchObject({ endpoint: { display: 'wss://prod.example.com:443' }, trust: { kind: 'pin' }, secret: 'flag-secret-value' });
    expect(flagged.notes[0]).toMatch(/: relay wss:\/\/prod\.example\.com:443, cert [^;]*; flags or environment variables give its trust, credential$/);
    const fromEnv = resolveClientConnection({}, { ...env, DBGRELAY_SECRET: 'env-secret' });
    expect(fromEnv).toMatchObject({ trust: { kind: 'ca' }, secret: 'env-secret' });
    // A token in the environment replaces the context's secret rather than conflicting with it.
    const token = resolveClientConnection({}, { ...env, DBGRELAY_TOKEN: 'env.token' });
    expect(token.secret).toBeUndefined();
    expect(token.token?.()).toBe('env.token');
  });

  it('set the whole context aside for another relay: its secret never goes to a relay it was not written for', () => {
    const env = home();
    const other = resolveClientConnection({ relay: 'wss://127.0.0.1:9443' }, env);
    expect(other).toMatchObject({ endpoint: { display: 'wss://127.0.0.1:9443' }, trust: { kind: 'system' } });
    expect(other.secret).toBeUndefined();
    expect(other.identityFiles).toEqual({});
    expect(other.notes[0]).toBe(
      'context "prod" (current-context of ' + env['DBGRELAY_CLIENT_CONFIG'] + ') not used: --relay names another relay than its wss://prod.example.com:443',
    );
    const fromEnv = resolveClientConnection({}, { ...env, DBGRELAY_RELAY: 'wss://elsewhere.example.com', DBGRELAY_SECRET: 'env-secret' });
    expect(fromEnv).toMatchObject({ endpoint: { display: 'wss://elsewhere.example.com:7443' }, trust: { kind: 'system' }, secret: 'env-secret' });
    expect(fromEnv.notes[0]).toMatch(/not used: DBGRELAY_RELAY names another relay/);
    // The same relay named again keeps the context.
    expect(resolveClientConnection({ relay: 'wss://prod.example.com:443' }, env).secret).toBe('prod-secret-value');
  });

  it('compare relays as endpoints, not text: scheme and host in any case, a default port written out or not, a trailing slash, a secret@', () => {
    const env = home();
    expect(resolveClientConnection({ relay: 'WSS://Prod.Example.com.:443/' }, env).secret).toBe('prod-secret-value');
    expect(resolveClientConnection({ context: 'lab', relay: 'tcps://LAB.example.com' }, env).token?.()).toBe('lab.token.value');
    expect(resolveClientConnection({}, { ...env, DBGRELAY_RELAY: 'wss://url-secret@prod.example.com:443' }).notes[0]).not.toMatch(/not used/);
    expect(applyClientContext({ relay: 'wss://prod.example.com:7443' }, env).notes[0]).toMatch(/not used: --relay names another relay/);
    expect(applyClientContext({ relay: 'wss://prod.example.com:443/other' }, env).notes[0]).toMatch(/not used/);
  });

  it('compare an IPv6 relay in any spelling', () => {
    const env = home();
    writeFileSync(env['DBGRELAY_CLIENT_CONFIG']!, 'current-context: v6\ncontexts:\n  v6: { relay: "wss://[fd00:0:0:0:0:0:0:5]:7443", token-env: LAB_TOKEN }\n');
    expect(resolveClientConnection({ relay: 'wss://[FD00::5]' }, env).token?.()).toBe('lab.token.value');
  });

  it('leave the built-in defaults alone without a file or a name, and refuse an unknown name', () => {
    const env = { HOME: '/nonexistent', DBGRELAY_CLIENT_CONFIG: '/nonexistent/c.yaml', DBGRELAY_DATA_DIR: '/nonexistent' };
    const connection = resolveClientConnection({}, env);
    expect(connection.endpoint.display).toBe('wss://127.0.0.1:7443');
    expect(connection.notes.join('\n')).not.toMatch(/context/);
    try {
      resolveClientConnection({ context: 'lba' }, home());
      expect.unreachable();
    } catch (error) {
      expect(isRelayError(error, 'CONFIG_INVALID')).toBe(true);
      expect((error as Error).message).toMatch(/^--context: no context "lba" in .* \(known contexts: prod, lab\); did you mean "lab"\?$/);
    }
  });
});
