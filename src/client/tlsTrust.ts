import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { certificateFingerprint, normalizeFingerprint } from '../certs/certificateFactory.js';
import { RelayError } from '../common/relayError.js';

/**
 * How a client decides to trust the relay's certificate. Verification is always on:
 * the system trust store, a CA file, or `sha256:` pins (docs/protocol.md §1).
 */
export type TlsTrust =
  | { readonly kind: 'system' }
  | { readonly kind: 'ca'; readonly caPem: string; readonly source: string }
  | { readonly kind: 'pin'; readonly fingerprints: readonly string[] };

/** Trust in the system's certificate store (the default). */
export const systemTrust: TlsTrust = Object.freeze({ kind: 'system' });

/** Trust in the CA certificate(s) of a PEM bundle; `source` names it in messages (e.g. the file path). */
export function caTrust(caPem: string, source: string): TlsTrust {
  if (!caPem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new RelayError('BAD_REQUEST', `${source} holds no PEM certificate`);
  }
  try {
    new X509Certificate(caPem);
  } catch (error) {
    throw new RelayError('BAD_REQUEST', `${source} is not a valid PEM certificate: ${(error as Error).message}`);
  }
  return { kind: 'ca', caPem, source };
}

/** Trust in certificates whose SHA-256 fingerprint is one of `pins` (`sha256:` + hex, colons allowed). */
export function pinTrust(pins: string | readonly string[]): TlsTrust {
  const list = typeof pins === 'string' ? [pins] : pins;
  if (list.length === 0) throw new RelayError('BAD_REQUEST', 'no fingerprint given');
  const fingerprints = list.map((pin) => {
    // Also take openssl's `SHA256:` spelling of the prefix.
    const normalized = normalizeFingerprint(pin.trim().replace(/^sha256:/i, 'sha256:'));
    if (!normalized) throw new RelayError('BAD_REQUEST', `"${pin}" is not a fingerprint; expected sha256: followed by 64 hex digits`);
    return normalized;
  });
  return { kind: 'pin', fingerprints };
}

/** One line saying what a {@link TlsTrust} trusts, for logs and --help. */
export function describeTrust(trust: TlsTrust): string {
  switch (trust.kind) {
    case 'system':
      return 'system trust store';
    case 'ca':
      return `CA file ${trust.source}`;
    case 'pin':
      return `pinned ${trust.fingerprints.join(', ')}`;
  }
}

/**
 * The certificate chain the peer presented, leaf first, from
 * `getPeerCertificate(true)` by walking `issuerCertificate` (a self-signed root
 * points at itself, which ends the walk).
 */
export function peerCertificateChain(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let current: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (current?.raw && current.raw.length > 0) {
    const fingerprint = certificateFingerprint(current.raw);
    if (seen.has(fingerprint)) break;
    seen.add(fingerprint);
    chain.push(new X509Certificate(current.raw));
    current = current.issuerCertificate;
  }
  return chain;
}

function checkValidity(cert: X509Certificate, now: Date): void {
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) {
    throw new RelayError(
      'TLS_VERIFY_FAILED',
      `relay certificate "${cert.subject.replaceAll('\n', ', ')}" is not valid now (valid ${cert.validFrom} to ${cert.validTo})`,
    );
  }
}

function describeChain(chain: readonly X509Certificate[]): string {
  return chain
    .map((cert, i) => `${i === 0 ? 'server' : 'issuer'} ${certificateFingerprint(cert.raw)} (${cert.subject.replaceAll('\n', ', ')})`)
    .join('; ');
}

/**
 * Checks a presented chain against pins. A pin on the leaf trusts that exact
 * certificate (like an SSH host key). A pin on an issuer (the relay sends its CA
 * after the leaf) is a trust anchor: every link from the leaf up to it must be
 * signed by the next, issuers must be CAs, every certificate must be in its validity
 * period, and the leaf must name `host`. Throws `TLS_PIN_MISMATCH` (with the offered
 * fingerprints) or `TLS_VERIFY_FAILED`.
 */
export function checkPinnedChain(chain: readonly X509Certificate[], host: string, pins: readonly string[], now = new Date()): void {
  if (chain.length === 0) throw new RelayError('TLS_VERIFY_FAILED', 'the relay presented no certificate');
  const anchor = chain.findIndex((cert) => pins.includes(certificateFingerprint(cert.raw)));
  if (anchor < 0) {
    throw new RelayError(
      'TLS_PIN_MISMATCH',
      `the relay's certificate matches no pinned fingerprint: expected (pinned) ${pins.join(' or ')}; offered by the relay: ${describeChain(chain)}`,
    );
  }
  for (let i = 0; i <= anchor; i++) checkValidity(chain[i]!, now);
  if (anchor === 0) return;
  for (let i = 0; i < anchor; i++) {
    const child = chain[i]!;
    const issuer = chain[i + 1]!;
    if (!issuer.ca || !child.checkIssued(issuer) || !child.verify(issuer.publicKey)) {
      throw new RelayError('TLS_VERIFY_FAILED', `relay certificate chain is broken: ${describeChain([child, issuer])} is not a valid signature link`);
    }
  }
  const leaf = chain[0]!;
  const named = isIP(host) ? leaf.checkIP(host) : leaf.checkHost(host);
  if (named === undefined) {
    throw new RelayError('TLS_VERIFY_FAILED', `relay certificate is not valid for "${host}" (it names ${leaf.subjectAltName ?? leaf.subject})`);
  }
}
