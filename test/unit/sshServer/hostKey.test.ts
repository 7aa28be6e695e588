import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../../src/common/relayError.js';
import { ensureHostKey } from '../../../src/sshServer/hostKey.js';
import { fingerprintOf, sshKeygen } from '../../support/keys/sshKeys.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'dbgrelay-hostkey-'));

describe('ensureHostKey', () => {
  it('creates an Ed25519 key with mode 0600 (and a .pub) once, then reuses it, with the fingerprint ssh-keygen computes', () => {
    const file = join(dir(), 'ssh_host_ed25519_key');
    const first = ensureHostKey(file);
    expect(first).toMatchObject({ created: true, keyType: 'ssh-ed25519', looseFileMode: false });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
    expect(first.fingerprint).toBe(fingerprintOf(file));
    expect(readFileSync(`${file}.pub`, 'utf8')).toMatch(new RegExp(`^${first.publicKeyLine.replace(/[+/]/g, '\\$&')} `));
    const second = ensureHostKey(file);
    expect(second).toMatchObject({ created: false, fingerprint: first.fingerprint, publicKeyLine: first.publicKeyLine });
    expect(second.privateKey).toBe(first.privateKey);
  });

  it('creates missing parent directories, and uses a configured key of another type as it is', () => {
    const file = join(dir(), 'nested', 'host_key');
    expect(ensureHostKey(file).created).toBe(true);
    const ecdsa = sshKeygen('ecdsa');
    const existing = ensureHostKey(ecdsa.privateFile);
    expect(existing).toMatchObject({ created: false, keyType: 'ecdsa-sha2-nistp256', fingerprint: ecdsa.fingerprint });
  });

  it('flags a loose mode, and refuses a file that is not an unencrypted private key, naming the key', () => {
    const key = sshKeygen('ed25519');
    chmodSync(key.privateFile, 0o644);
    expect(ensureHostKey(key.privateFile).looseFileMode).toBe(true);
    const notAKey = join(dir(), 'host_key');
    writeFileSync(notAKey, key.publicLine);
    for (const file of [notAKey, dir()]) {
      try {
        ensureHostKey(file);
        throw new Error('expected CONFIG_INVALID');
      } catch (error) {
        expect(isRelayError(error, 'CONFIG_INVALID')).toBe(true);
        expect((error as Error).message).toMatch(/^sshServer\.hostKeyFile: /);
      }
    }
  });
});
