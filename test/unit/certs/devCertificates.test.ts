import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initCertificates, parseSubjectAltNames } from '../../../src/certs/certificateFiles.js';
import { certificateFingerprint, createCa, createLeaf, loopbackNames } from '../../../src/certs/certificateFactory.js';
import { ensureDevCertificates } from '../../../src/certs/devCertificates.js';
import { certificateNames } from '../../../src/certs/serverNames.js';
import { isRelayError } from '../../../src/common/relayError.js';

const freshDir = (): string => mkdtempSync(join(tmpdir(), 'dbgrelay-dev-certs-'));
const leafOf = (dir: string): X509Certificate => new X509Certificate(readFileSync(join(dir, 'server.pem'), 'utf8'));
const caOf = (dir: string): X509Certificate => new X509Certificate(readFileSync(join(dir, 'ca.pem'), 'utf8'));

describe('ensureDevCertificates and tls.publicNames', () => {
  it('makes a certificate for loopback only, then again for the public names with the same CA', () => {
    const dir = freshDir();
    const first = ensureDevCertificates(dir);
    expect(first).toMatchObject({ created: true, remade: false, names: ['localhost', '127.0.0.1', '::1'] });
    const caFingerprint = certificateFingerprint(caOf(dir).raw);

    const second = ensureDevCertificates(dir, ['relay.example.com', '10.0.0.5', 'fd00::5']);
    expect(second).toMatchObject({ created: false, remade: true, caFingerprint });
    expect(second.names).toEqual(['localhost', 'relay.example.com', '127.0.0.1', '::1', '10.0.0.5', 'fd00::5']);
    const leaf = leafOf(dir);
    expect(certificateNames(leaf)).toEqual(second.names);
    // Signed by the CA that was there: a copied ca.pem and a pinned CA fingerprint stay valid.
    expect(certificateFingerprint(caOf(dir).raw)).toBe(caFingerprint);
    expect(leaf.checkIssued(caOf(dir)) && leaf.verify(caOf(dir).publicKey)).toBe(true);
    expect(leaf.checkHost('relay.example.com')).toBe('relay.example.com');
    expect(leaf.checkIP('10.0.0.5')).toBe('10.0.0.5');
    expect(statSync(join(dir, 'server-key.pem')).mode & 0o777).toBe(0o600);
    expect(second.chainPem).toContain(readFileSync(join(dir, 'ca.pem'), 'utf8').trim());
  });

  it('keeps a certificate that already covers the names, in any order or spelling, and loopback given again', () => {
    const dir = freshDir();
    ensureDevCertificates(dir, ['relay.example.com', '10.0.0.5']);
    const leaf = certificateFingerprint(leafOf(dir).raw);
    const again = ensureDevCertificates(dir, ['10.0.0.5', 'RELAY.example.com', '127.0.0.1', '0:0:0:0:0:0:0:1']);
    expect(again.remade).toBe(false);
    expect(certificateFingerprint(leafOf(dir).raw)).toBe(leaf);
  });

  it('makes it again when a public name is dropped, and leaves it alone without public names', () => {
    const dir = freshDir();
    ensureDevCertificates(dir, ['relay.example.com', 'other.example.com']);
    expect(ensureDevCertificates(dir, ['relay.example.com'])).toMatchObject({ remade: true, names: ['localhost', 'relay.example.com', '127.0.0.1', '::1'] });
    // No public names asked: a certificate made for other names (here by the last call) is used as it is.
    expect(ensureDevCertificates(dir)).toMatchObject({ remade: false, names: ['localhost', 'relay.example.com', '127.0.0.1', '::1'] });
  });

  it('adds loopback to a certificate `dbgrelay certs init --dir <dataDir>` made, with its own CA', () => {
    const dir = join(freshDir(), 'data');
    const made = initCertificates(dir, parseSubjectAltNames(['relay.example.com']));
    const dev = ensureDevCertificates(dir, ['relay.example.com']);
    expect(dev).toMatchObject({ remade: true, caFingerprint: made.caFingerprint, names: ['localhost', 'relay.example.com', '127.0.0.1', '::1'] });
  });

  it('refuses a public name that is neither a DNS name nor an IP address, naming the key', () => {
    const dir = freshDir();
    let error: unknown;
    try {
      ensureDevCertificates(dir, ['relay example']);
    } catch (caught) {
      error = caught;
    }
    expect(isRelayError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toBe('tls.publicNames: "relay example" is neither an IP address nor a DNS name');
  });

  it('writes a re-made key and certificate to temporary files and renames them, and makes a mismatching pair again', () => {
    const dir = freshDir();
    const first = ensureDevCertificates(dir);
    // A crash after the key's rename and before the certificate's: the new key beside the old certificate.
    writeFileSync(first.keyFile, createLeaf(createCa('other'), 'localhost', { server: loopbackNames }).keyPem);
    const again = ensureDevCertificates(dir);
    expect(again.remade).toBe(true);
    expect(again.caFingerprint).toBe(first.caFingerprint);
    expect(new X509Certificate(readFileSync(again.certFile)).checkPrivateKey(createPrivateKey(readFileSync(again.keyFile)))).toBe(true);
    expect(statSync(again.keyFile).mode & 0o777).toBe(0o600);
    expect(ensureDevCertificates(dir, ['relay.example.com']).remade).toBe(true);
    expect(readdirSync(dir).filter((file) => file.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses a scoped IPv6 public name (fe80::1%eth0) as CONFIG_INVALID, not a TypeError', () => {
    expect(() => ensureDevCertificates(freshDir(), ['fe80::1%eth0'])).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('an IPv6 zone such as %eth0 cannot be in a certificate') }),
    );
  });
});
