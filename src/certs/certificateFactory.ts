import forge from 'node-forge';
import { createHash, X509Certificate } from 'node:crypto';

/** A PEM certificate with its PEM private key. */
export interface CertificateAndKey {
  readonly certPem: string;
  readonly keyPem: string;
}

/** Subject alternative names for a server certificate. */
export interface ServerNames {
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

/** Default names of the development server certificate: the loopback interface. */
export const loopbackNames: ServerNames = { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'] };

const rsaBits = 2048;

function randomSerial(): string {
  // Positive serial of 16 octets with 126 random bits (RFC 5280 §4.1.2.2: positive, at
  // most 20 octets). The first octet is forced into 0x40..0x7f so that the DER INTEGER
  // is minimal: a leading 0x00 octet (what '00' + random bytes gave whenever the first
  // random byte was 0x00) is "illegal padding" to OpenSSL.
  const bytes = Buffer.from(forge.random.getBytesSync(16), 'binary');
  bytes[0] = (bytes[0]! & 0x3f) | 0x40;
  return bytes.toString('hex');
}

/**
 * How far back a new certificate's `notBefore` is set: 5 minutes, so that a peer whose
 * clock is a little behind does not see it as not yet valid.
 */
export const notBeforeBackdateMs = 5 * 60_000;

function validity(cert: forge.pki.Certificate, days: number): void {
  const now = Date.now();
  cert.validity.notBefore = new Date(now - notBeforeBackdateMs);
  cert.validity.notAfter = new Date(now + days * 24 * 3600_000);
}

/** Creates a self-signed CA certificate (RSA 2048, SHA-256) for signing relay certificates. */
export function createCa(commonName: string, days = 3650): CertificateAndKey {
  const keys = forge.pki.rsa.generateKeyPair({ bits: rsaBits });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerial();
  validity(cert, days);
  const attrs = [{ name: 'commonName', value: commonName }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true, pathLenConstraint: 0 },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

/**
 * Creates a certificate signed by `ca`: a TLS server certificate for `names`, a client
 * certificate, or (`peer`) both, as the links between relay instances need.
 */
export function createLeaf(
  ca: CertificateAndKey,
  commonName: string,
  usage: { server: ServerNames } | { client: true } | { server: ServerNames; client: true },
  days = 825,
): CertificateAndKey {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const keys = forge.pki.rsa.generateKeyPair({ bits: rsaBits });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerial();
  validity(cert, days);
  cert.setSubject([{ name: 'commonName', value: commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = 'server' in usage ? [...usage.server.dnsNames.map((value) => ({ type: 2, value })), ...usage.server.ipAddresses.map((ip) => ({ type: 7, ip }))] : [];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: 'server' in usage, clientAuth: 'client' in usage },
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

/**
 * SHA-256 fingerprint of a certificate (PEM, or DER bytes) in the form dbgrelay prints
 * and accepts for pinning: `sha256:` followed by 64 lowercase hex digits.
 */
export function certificateFingerprint(cert: string | Buffer): string {
  const der = typeof cert === 'string' ? new X509Certificate(cert).raw : cert;
  return 'sha256:' + createHash('sha256').update(der).digest('hex');
}

/** The PEM blocks of the certificates in `pem` (a file's text: one certificate or a bundle), in order. */
export function pemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * Normalises a user-supplied pin (`sha256:` + hex, with or without colons, any case)
 * to the {@link certificateFingerprint} form, or returns undefined if it is not one.
 */
export function normalizeFingerprint(pin: string): string | undefined {
  const match = /^sha256:([0-9a-fA-F:]+)$/i.exec(pin.trim());
  if (!match) return undefined;
  const hex = match[1]!.replaceAll(':', '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? `sha256:${hex}` : undefined;
}
