import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostKeyCheck, type HostKeySource } from '../../../src/ssh/hostKeyVerifier.js';

const keyText = 'AAAAC3NzaC1lZDI1NTE5AAAAIAUb3aUPCElRyZ30j/pHQjdPQL8wzE2Y5LyetJNlRT9r';
const keyBlob = Buffer.from(keyText, 'base64');
const fingerprint = 'SHA256:TSq0PdKkc9+MrlMaNLWKNXi1TsMRbVAmFpDzioa5vqA';
const otherKeyText = 'AAAAC3NzaC1lZDI1NTE5AAAAIGluXOkjqUBkUt3yxGmoNGOEjEyc10ts9XCNmuVLnvOZ';
const otherFingerprint = 'SHA256:KxgYUyi7f38fiBQufI7/HfICgzcu5rLLxV3qiQA1N3w';

function knownHosts(lines: string[]): HostKeySource {
  const file = join(mkdtempSync(join(tmpdir(), 'known-hosts-')), 'known_hosts');
  writeFileSync(file, lines.join('\n') + '\n');
  return { kind: 'knownHosts', file };
}

const check = (source: HostKeySource, port = 2222) => HostKeyCheck.prepare(source, '127.0.0.1', port, `127.0.0.1:${port}`);

describe('host key checks', () => {
  it('accept a key listed for [host]:port and refuse it for another port as unknown, showing the offered fingerprint', () => {
    const source = knownHosts([`[127.0.0.1]:2222 ssh-ed25519 ${keyText}`]);
    expect(check(source).verify(keyBlob)).toBeUndefined();
    const refusal = check(source, 2200).verify(keyBlob);
    expect(refusal?.code).toBe('SSH_HOST_KEY_UNKNOWN');
    expect(refusal?.message).toContain(
      `host key of 127.0.0.1:2200 is not known (offered ssh-ed25519 ${fingerprint}; ${source.kind === 'knownHosts' ? source.file : ''} has no entry for it)`,
    );
  });

  it('refuse a changed key as SSH_HOST_KEY_CHANGED, naming the line and the offered fingerprint', () => {
    const source = knownHosts(['# header', `[127.0.0.1]:2222 ssh-ed25519 ${otherKeyText}`]);
    const refusal = check(source).verify(keyBlob);
    expect(refusal?.code).toBe('SSH_HOST_KEY_CHANGED');
    expect(refusal?.message).toMatch(
      /^host key of 127\.0\.0\.1:2222 changed \(offered ssh-ed25519 SHA256:TSq0PdKkc9\+MrlMaNLWKNXi1TsMRbVAmFpDzioa5vqA; .* line 2 has another ssh-ed25519 key\)/,
    );
  });

  it('treat a key of a type not on record as unknown, and say which types are', () => {
    const refusal = check(knownHosts([`[127.0.0.1]:2222 ssh-rsa AAAAB3NzaC1yc2E=`])).verify(keyBlob);
    expect(refusal?.code).toBe('SSH_HOST_KEY_UNKNOWN');
    expect(refusal?.message).toContain('has only ssh-rsa keys for it');
  });

  it('refuse a key marked @revoked even when it is also listed', () => {
    const refusal = check(knownHosts([`@revoked [127.0.0.1]:2222 ssh-ed25519 ${keyText}`, `[127.0.0.1]:2222 ssh-ed25519 ${keyText}`])).verify(keyBlob);
    expect(refusal?.code).toBe('SSH_HOST_KEY_CHANGED');
    expect(refusal?.message).toContain('marked @revoked');
  });

  it('check pinned fingerprints', () => {
    expect(check({ kind: 'pinned', fingerprints: [otherFingerprint, fingerprint] }).verify(keyBlob)).toBeUndefined();
    const refusal = check({ kind: 'pinned', fingerprints: [otherFingerprint] }).verify(keyBlob);
    expect(refusal?.code).toBe('SSH_HOST_KEY_CHANGED');
    expect(refusal?.message).toBe(`host key of 127.0.0.1:2222 does not match the pinned ssh.hostKey (offered ssh-ed25519 ${fingerprint}); refusing to connect`);
  });

  it('refuse to connect when the known_hosts file cannot be read', () => {
    expect(() => check({ kind: 'knownHosts', file: '/nonexistent/known_hosts' })).toThrow(/cannot read the known_hosts file \/nonexistent\/known_hosts \(ENOENT\)/);
  });

  it('offer the host key algorithms on record first', () => {
    expect(
      check(knownHosts([`[127.0.0.1]:2222 ssh-rsa AAAAB3NzaC1yc2E=`]))
        .preferredAlgorithms()
        ?.slice(0, 4),
    ).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
    expect(check(knownHosts([`[127.0.0.1]:2222 ssh-ed25519 ${keyText}`])).preferredAlgorithms()?.[0]).toBe('ssh-ed25519');
    expect(check(knownHosts(['other ssh-rsa AAAAB3NzaC1yc2E='])).preferredAlgorithms()).toBeUndefined();
  });
});
