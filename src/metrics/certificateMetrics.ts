import { Gauge, type Registry } from 'prom-client';

/**
 * What the relay does with a certificate, the `use` label of
 * `dbgrelay_certificate_expiry_timestamp_seconds`: `server` is the certificate the wss
 * and tcps listeners present and `server-chain` the chain sent with it; `client-ca` the
 * CAs client certificates must chain to (`tls.clientCaFile`); `peer`, `peer-chain` and
 * `peer-ca` the links between instances (`cluster.peer.*File`); `target-ca` the CAs
 * `tcps://` targets are checked against (`targets.*.caFile`); `jwt` certificates that
 * carry JWT verification keys (`auth.jwt.keyFile`, `x5c` of `auth.jwt.jwksFile`).
 */
export const certificateUses = ['server', 'server-chain', 'client-ca', 'peer', 'peer-chain', 'peer-ca', 'target-ca', 'jwt'] as const;

/** A value of {@link certificateUses}. */
export type CertificateUse = (typeof certificateUses)[number];

/** One certificate the relay presents or trusts. */
export interface CertificateSeries {
  readonly use: CertificateUse;
  /** The subject's distinguished name on one line. */
  readonly subject: string;
  /** `sha256:` fingerprint. */
  readonly fingerprint: string;
  /** `notAfter` in seconds since the Unix epoch. */
  readonly notAfterSeconds: number;
}

/** The expiry of every certificate in force (docs/operations.md "Metrics and health"). */
export class CertificateMetrics {
  /** `dbgrelay_certificate_expiry_timestamp_seconds{use, subject, fingerprint}`: `notAfter`, seconds since the epoch. */
  private readonly expiry: Gauge<'use' | 'subject' | 'fingerprint'>;

  constructor(registry: Registry) {
    this.expiry = new Gauge({
      name: 'dbgrelay_certificate_expiry_timestamp_seconds',
      help: 'When each certificate the relay presents or trusts expires (notAfter, seconds since the Unix epoch), by use, subject and SHA-256 fingerprint.',
      labelNames: ['use', 'subject', 'fingerprint'] as const,
      registers: [registry],
    });
  }

  /**
   * Replaces every series with `certificates` (at start and after each reload), so a
   * replaced certificate's series goes away with it. A certificate used twice the same
   * way appears once.
   */
  show(certificates: readonly CertificateSeries[]): void {
    this.expiry.reset();
    for (const { use, subject, fingerprint, notAfterSeconds } of certificates) this.expiry.set({ use, subject, fingerprint }, notAfterSeconds);
  }
}
