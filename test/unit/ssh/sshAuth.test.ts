import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testKeyPair } from '../../support/keys/sshKeys.js';
import { describe, expect, it } from 'vitest';
import { SshCredentialSource } from '../../../src/ssh/sshAuth.js';

const dir = mkdtempSync(join(tmpdir(), 'ssh-auth-'));
const plainKey = join(dir, 'id_plain');
writeFileSync(plainKey, testKeyPair().private, { mode: 0o600 });
const encryptedKey = join(dir, 'id_encrypted');
writeFileSync(encryptedKey, testKeyPair({ passphrase: 'open sesame', cipher: 'aes256-ctr', rounds: 4 }).private, { mode: 0o600 });
const passphraseFile = join(dir, 'passphrase');
writeFileSync(passphraseFile, 'open sesame\n', { mode: 0o600 });
const prefix = 'targets.db-1.ssh';

function configError(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    expect((error as { code?: string }).code).toBe('CONFIG_INVALID');
    return (error as Error).message;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('ssh credentials', () => {
  it('load a key file, with its passphrase from a file or an environment variable', () => {
    expect(new SshCredentialSource({ identityFile: plainKey }, prefix).load().privateKey).toBeInstanceOf(Buffer);
    expect(new SshCredentialSource({ identityFile: encryptedKey, passphraseFile }, prefix).load().passphrase).toBe('open sesame');
    process.env['DBGRELAY_TEST_SSH_PASSPHRASE'] = 'open sesame';
    try {
      const source = new SshCredentialSource({ identityFile: encryptedKey, passphraseEnv: 'DBGRELAY_TEST_SSH_PASSPHRASE' }, prefix);
      expect(source.identity).toBe(`key ${encryptedKey}`);
    } finally {
      delete process.env['DBGRELAY_TEST_SSH_PASSPHRASE'];
    }
  });

  it('read passphraseEnv from the environment they are given, not only the process', () => {
    const env = { DBGRELAY_TEST_GIVEN_PASSPHRASE: 'open sesame' };
    expect(process.env['DBGRELAY_TEST_GIVEN_PASSPHRASE']).toBeUndefined();
    expect(new SshCredentialSource({ identityFile: encryptedKey, passphraseEnv: 'DBGRELAY_TEST_GIVEN_PASSPHRASE' }, prefix, env).load().passphrase).toBe('open sesame');
  });

  it('use the agent of SSH_AUTH_SOCK or a given socket', () => {
    expect(new SshCredentialSource({ agent: true }, prefix, { SSH_AUTH_SOCK: '/run/agent.sock' }).load()).toEqual({ agent: '/run/agent.sock' });
    const both = new SshCredentialSource({ agent: '/tmp/a.sock', identityFile: plainKey }, prefix);
    expect(both.identity).toBe(`key ${plainKey}, agent /tmp/a.sock`);
    expect(configError(() => new SshCredentialSource({ agent: true }, prefix, {}))).toBe(
      `${prefix}.agent: true needs SSH_AUTH_SOCK in the relay's environment (or give the agent socket path)`,
    );
  });

  it('refuse at start what cannot authenticate, naming the key and never the secret', () => {
    expect(configError(() => new SshCredentialSource({ identityFile: join(dir, 'missing') }, prefix))).toMatch(
      /targets\.db-1\.ssh\.identityFile: cannot read .*missing \(ENOENT\)/,
    );
    expect(configError(() => new SshCredentialSource({ identityFile: encryptedKey }, prefix))).toMatch(/targets\.db-1\.ssh\.identityFile: .* is not a usable private key/);
    const wrong = join(dir, 'wrong');
    writeFileSync(wrong, 'guess\n');
    const message = configError(() => new SshCredentialSource({ identityFile: encryptedKey, passphraseFile: wrong }, prefix));
    expect(message).toMatch(/is not a usable private key/);
    expect(message).not.toContain('guess');
    expect(configError(() => new SshCredentialSource({ identityFile: encryptedKey, passphraseEnv: 'DBGRELAY_TEST_UNSET' }, prefix))).toBe(
      `${prefix}.passphraseEnv: DBGRELAY_TEST_UNSET is not set in the relay's environment`,
    );
    expect(configError(() => new SshCredentialSource({ identityFile: passphraseFile }, prefix))).toMatch(/is not a usable private key/);
  });
});
