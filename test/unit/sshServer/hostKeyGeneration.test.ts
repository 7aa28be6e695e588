import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../../src/common/relayError.js';
import { generateEd25519KeyPair } from '../../../src/sshServer/ed25519KeyPair.js';
import { ensureHostKey } from '../../../src/sshServer/hostKey.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'dbgrelay-hostkey-'));

function refusal(file: string): string {
  try {
    ensureHostKey(file);
  } catch (error) {
    expect(isRelayError(error, 'CONFIG_INVALID')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('Ed25519 host key generation', () => {
  it('makes keys that ssh2 always parses, private and public alike, and that sign', () => {
    for (let i = 0; i < 2_000; i++) {
      const pair = generateEd25519KeyPair(i % 2 === 0 ? 'dbgrelay ssh host key' : '');
      const privateKey = ssh2.utils.parseKey(pair.private);
      const publicKey = ssh2.utils.parseKey(pair.public);
      if (privateKey instanceof Error || publicKey instanceof Error) throw new Error(`key ${i} does not parse:\n${pair.private}`);
      expect(privateKey.isPrivateKey()).toBe(true);
      expect(privateKey.getPublicSSH().equals(publicKey.getPublicSSH())).toBe(true);
    }
    const pair = ssh2.utils.parseKey(generateEd25519KeyPair().private);
    if (pair instanceof Error) throw pair;
    expect(pair.verify(Buffer.from('data'), pair.sign(Buffer.from('data')))).toBe(true);
  });

  it('leaves only the key and its .pub in the directory, no temp file', () => {
    const where = dir();
    expect(ensureHostKey(join(where, 'ssh_host_ed25519_key')).created).toBe(true);
    expect(readdirSync(where).sort()).toEqual(['ssh_host_ed25519_key', 'ssh_host_ed25519_key.pub']);
  });

  it('refuses an unparsable key file saying what is wrong and that deleting it has a new key made', () => {
    const file = join(dir(), 'ssh_host_ed25519_key');
    const body = generateEd25519KeyPair().private.split('\n');
    // A key whose base64 body lost its middle: the OpenSSH structure no longer parses.
    writeFileSync(file, [body[0], body[1], body[body.length - 2], body[body.length - 1]].join('\n'), { mode: 0o600 });
    const message = refusal(file);
    expect(message).toMatch(/^sshServer\.hostKeyFile: /);
    expect(message).toContain(`${file} is not a usable SSH host key (`);
    expect(message).toContain(`Delete it (and ${file}.pub) to have a new Ed25519 key made`);
  });
});
