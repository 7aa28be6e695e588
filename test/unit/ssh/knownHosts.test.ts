import { describe, expect, it } from 'vitest';
import { entriesFor, knownHostsName, parseKnownHosts } from '../../../src/ssh/knownHosts.js';
import { describeHostKey, sshFingerprint, sshKeyType } from '../../../src/ssh/sshKeyFingerprint.js';

// A key made with `ssh-keygen -t ed25519`; `ssh-keygen -l -E sha256` printed the fingerprint,
// `ssh-keygen -H` the hashed lines (for [127.0.0.1]:2222 and db-1.example.com).
const keyText = 'AAAAC3NzaC1lZDI1NTE5AAAAIAUb3aUPCElRyZ30j/pHQjdPQL8wzE2Y5LyetJNlRT9r';
const keyBlob = Buffer.from(keyText, 'base64');
const fingerprint = 'SHA256:TSq0PdKkc9+MrlMaNLWKNXi1TsMRbVAmFpDzioa5vqA';
const otherKeyText = 'AAAAC3NzaC1lZDI1NTE5AAAAIGluXOkjqUBkUt3yxGmoNGOEjEyc10ts9XCNmuVLnvOZ';
const hashedPort2222 = '|1|/4u4ZPUq6qtsPzF2JY7yNUqZ2ug=|LTrxbGsUFvDT9DpUPj66jljpIwA=';
const hashedDb1 = '|1|ZH4mQayeOSSeZytP9ZdpCyzB9Lk=|GTzJ+1ExleVn/BCJcdKITPE/ivA=';

describe('ssh key fingerprints', () => {
  it('are printed as OpenSSH does: SHA256: and unpadded base64', () => {
    expect(sshFingerprint(keyBlob)).toBe(fingerprint);
    expect(sshKeyType(keyBlob)).toBe('ssh-ed25519');
    expect(describeHostKey(keyBlob)).toBe(`ssh-ed25519 ${fingerprint}`);
  });

  it('name no type for a blob that is not a key', () => {
    expect(sshKeyType(Buffer.from([0, 0, 0]))).toBeUndefined();
    expect(sshKeyType(Buffer.from([0, 0, 0, 200, 1, 2]))).toBeUndefined();
  });
});

describe('known_hosts', () => {
  it('looks hosts up by name on port 22 and as [host]:port otherwise', () => {
    expect(knownHostsName('db-1', 22)).toBe('db-1');
    expect(knownHostsName('db-1', 2222)).toBe('[db-1]:2222');
    expect(knownHostsName('::1', 2222)).toBe('[::1]:2222');
  });

  it('matches plain entries, comma lists, [host]:port entries and is case-insensitive', () => {
    const hosts = parseKnownHosts(['# a comment', '', `db-1.example.com,10.0.0.5 ssh-ed25519 ${keyText} ops@db-1`, `[127.0.0.1]:2222 ssh-ed25519 ${otherKeyText}`].join('\n'));
    expect(hosts.invalidLines).toEqual([]);
    expect(entriesFor(hosts, 'DB-1.example.com', 22).map((e) => e.line)).toEqual([3]);
    expect(entriesFor(hosts, '10.0.0.5', 22).map((e) => e.line)).toEqual([3]);
    expect(entriesFor(hosts, '10.0.0.5', 2200)).toEqual([]);
    expect(entriesFor(hosts, '127.0.0.1', 2222).map((e) => e.line)).toEqual([4]);
    expect(entriesFor(hosts, '127.0.0.1', 22)).toEqual([]);
    const [entry] = entriesFor(hosts, 'db-1.example.com', 22);
    expect(entry?.keyType).toBe('ssh-ed25519');
    expect(entry?.key.equals(keyBlob)).toBe(true);
  });

  it('matches hashed entries (HashKnownHosts), for port 22 and [host]:port', () => {
    const hosts = parseKnownHosts(`${hashedPort2222} ssh-ed25519 ${keyText}\n${hashedDb1} ssh-ed25519 ${keyText}\n`);
    expect(entriesFor(hosts, '127.0.0.1', 2222).map((e) => e.line)).toEqual([1]);
    expect(entriesFor(hosts, '127.0.0.1', 2223)).toEqual([]);
    expect(entriesFor(hosts, '127.0.0.2', 2222)).toEqual([]);
    expect(entriesFor(hosts, 'db-1.example.com', 22).map((e) => e.line)).toEqual([2]);
    expect(entriesFor(hosts, 'db-1.example.com', 2222)).toEqual([]);
  });

  it('applies wildcards and negations like OpenSSH', () => {
    const hosts = parseKnownHosts(`*.example.com,!secret.example.com ssh-ed25519 ${keyText}\nweb-? ssh-ed25519 ${keyText}\n`);
    expect(entriesFor(hosts, 'db-1.example.com', 22)).toHaveLength(1);
    expect(entriesFor(hosts, 'secret.example.com', 22)).toEqual([]);
    expect(entriesFor(hosts, 'example.com', 22)).toEqual([]);
    expect(entriesFor(hosts, 'web-1', 22)).toHaveLength(1);
    expect(entriesFor(hosts, 'web-12', 22)).toEqual([]);
  });

  it('keeps @revoked and @cert-authority markers and skips malformed lines', () => {
    const hosts = parseKnownHosts(
      [
        `@revoked db-1 ssh-ed25519 ${keyText}`,
        `@cert-authority *.example.com ssh-ed25519 ${otherKeyText}`,
        `@bogus db-1 ssh-ed25519 ${keyText}`,
        'db-1 ssh-ed25519',
        'db-1 ssh-ed25519 not*base64',
        `|1|short|hash ssh-ed25519 ${keyText}`,
      ].join('\n'),
    );
    expect(hosts.entries.map((e) => e.marker)).toEqual(['revoked', 'cert-authority']);
    expect(hosts.invalidLines).toEqual([3, 4, 5, 6]);
  });
});
