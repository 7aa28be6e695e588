import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateFingerprint, createCa, createLeaf, loopbackNames, type CertificateAndKey } from '../../../src/certs/certificateFactory.js';

/**
 * Retries until OpenSSL can parse the certificate: a guard against non-minimal DER
 * ("illegal padding"), which an earlier random-serial scheme produced for about 1
 * certificate in 256 and which would make a test fail at random.
 */
function parsable(make: () => CertificateAndKey): CertificateAndKey {
  for (;;) {
    const made = make();
    try {
      new X509Certificate(made.certPem);
      return made;
    } catch {
      // try again
    }
  }
}

/** A CA and a server certificate it signed (names: localhost, 127.0.0.1, ::1), as PEM and as files. */
export interface TestCertificates {
  readonly dir: string;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  /** Leaf then CA: what a relay presents. */
  readonly chainPem: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Leaf followed by CA. */
  readonly chainFile: string;
  readonly caFingerprint: string;
  readonly leafFingerprint: string;
}

const cache = new Map<string, TestCertificates>();
let cleanupRegistered = false;

/**
 * Test certificates, made once per test process and per `name` (RSA key generation
 * in node-forge takes about a second): ask for another `name` to get an unrelated CA.
 * The files live in a temporary directory removed when the process exits.
 */
export function testCertificates(name = 'default'): TestCertificates {
  const cached = cache.get(name);
  if (cached) return cached;
  const ca = parsable(() => createCa(`dbgrelay test CA (${name})`));
  const leaf = parsable(() => createLeaf(ca, 'localhost', { server: loopbackNames }));
  const dir = mkdtempSync(join(tmpdir(), `dbgrelay-certs-${name}-`));
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    process.once('exit', () => {
      for (const certs of cache.values()) rmSync(certs.dir, { recursive: true, force: true });
    });
  }
  const chainPem = leaf.certPem.trimEnd() + '\n' + ca.certPem.trimEnd() + '\n';
  const files = { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server-key.pem'), chainFile: join(dir, 'chain.pem') };
  writeFileSync(files.caFile, ca.certPem);
  writeFileSync(files.certFile, leaf.certPem);
  writeFileSync(files.keyFile, leaf.keyPem, { mode: 0o600 });
  writeFileSync(files.chainFile, chainPem);
  const certs: TestCertificates = {
    dir,
    caPem: ca.certPem,
    certPem: leaf.certPem,
    keyPem: leaf.keyPem,
    chainPem,
    ...files,
    caFingerprint: certificateFingerprint(ca.certPem),
    leafFingerprint: certificateFingerprint(leaf.certPem),
  };
  cache.set(name, certs);
  return certs;
}
