import { X509Certificate } from 'node:crypto';
import { certificateFingerprint, pemCertificates } from './certificateFactory.js';

/** When one certificate stops being valid, and how operators recognise it. */
export interface CertificateValidity {
  /** The subject's distinguished name on one line (`CN=…, O=…`). */
  readonly subject: string;
  /** `sha256:` fingerprint, the form `dbgrelay` prints and pins. */
  readonly fingerprint: string;
  /** `notAfter` in seconds since the Unix epoch. */
  readonly notAfterSeconds: number;
}

/** The validity of one certificate, PEM or DER (e.g. a JWK's `x5c` entry, RFC 7517 §4.7). */
export function certificateValidity(certificate: string | Buffer): CertificateValidity {
  const parsed = new X509Certificate(certificate);
  return {
    subject: parsed.subject.split('\n').join(', '),
    fingerprint: certificateFingerprint(parsed.raw),
    notAfterSeconds: Math.floor(Date.parse(parsed.validTo) / 1000),
  };
}

/**
 * The validity of every certificate in `pem` (one certificate or a bundle), in order.
 * Throws when a block is not a certificate (the loaders refuse such files before).
 */
export function certificateValidities(pem: string): CertificateValidity[] {
  return pemCertificates(pem).map((block) => certificateValidity(block));
}
