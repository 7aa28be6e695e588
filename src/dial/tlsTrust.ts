import { X509Certificate } from 'node:crypto';
import { checkServerIdentity, type DetailedPeerCertificate, type PeerCertificate, type TLSSocket } from 'node:tls';
import { certificateFingerprint, normalizeFingerprint } from '../certs/certificateFactory.js';
import { certificateNames } from '../certs/serverNames.js';
import { RelayError } from '../common/relayError.js';
import { nameMismatchHint } from './tlsFailureHint.js';

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
    throw new RelayError('TLS_VERIFY_FAILED', `relay certificate "${cert.subject.replaceAll('\n', ', ')}" is not valid now (valid ${cert.validFrom} to ${cert.validTo})`);
  }
}

/** OID of the `serverAuth` extended key usage (RFC 5280 §4.2.1.12). */
const serverAuthOid = '1.3.6.1.5.5.7.3.1';
/** Names of the usual extended key usages, for messages. */
const usageNames: Readonly<Record<string, string>> = {
  [serverAuthOid]: 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
};

/**
 * Refuses a certificate whose extendedKeyUsage is present and lacks `serverAuth`
 * (RFC 5280 §4.2.1.12), as OpenSSL does for `--ca` and for the Python agent: a client
 * certificate that `dbgrelay certs client` made, signed by the same CA, is not a relay.
 */
function checkServerPurpose(cert: X509Certificate): void {
  // Node 20 calls the extendedKeyUsage list `keyUsage` (later versions also `extKeyUsage`); undefined means no such extension: any purpose.
  const usages = (cert as { extKeyUsage?: string[] }).extKeyUsage ?? cert.keyUsage;
  if (usages === undefined || usages.includes(serverAuthOid)) return;
  const listed = usages.map((oid) => usageNames[oid] ?? oid).join(', ');
  throw new RelayError(
    'TLS_VERIFY_FAILED',
    `relay certificate "${cert.subject.replaceAll('\n', ', ')}" is not a TLS server certificate: its extendedKeyUsage (${listed}) lacks serverAuth (a client certificate?)`,
  );
}

/**
 * Checks that the leaf names `host` with Node's own `tls.checkServerIdentity`, the check
 * a `--ca` or system-store connection makes (subjectAltName DNS names with wildcards,
 * IP addresses for an IP host, the subject CN only when there are no DNS names); a
 * refusal names the fix (`nameMismatchHint`).
 */
function checkServerName(leaf: X509Certificate, host: string): void {
  const error = checkServerIdentity(host, leaf.toLegacyObject() as PeerCertificate);
  if (error !== undefined) {
    throw new RelayError('TLS_VERIFY_FAILED', `cannot verify the relay's certificate: ${nameMismatchHint(certificateNames(leaf), host)}`);
  }
}

function describeChain(chain: readonly X509Certificate[]): string {
  return chain.map((cert, i) => `${i === 0 ? 'server' : 'issuer'} ${certificateFingerprint(cert.raw)} (${cert.subject.replaceAll('\n', ', ')})`).join('; ');
}

/**
 * Checks a presented chain against pins. A pin on the leaf trusts that exact
 * certificate (like an SSH host key) for any name. A pin on an issuer (the relay sends
 * its CA after the leaf) is a trust anchor: every link from the leaf up to it must be
 * signed by the next, issuers must be CAs, and the leaf must name `host` (checked as
 * with `--ca`). Either way every certificate up to the pinned one must be in its
 * validity period, and every one below it must allow the serverAuth purpose
 * (extendedKeyUsage absent or listing serverAuth), as OpenSSL requires of a server
 * chain. Throws `TLS_PIN_MISMATCH` (with the offered fingerprints) or `TLS_VERIFY_FAILED`.
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
  // The anchor itself is trusted as it is (OpenSSL does not check a trust anchor's purpose either); a pinned leaf is its own anchor and still must be a server certificate.
  for (let i = 0; i < Math.max(anchor, 1); i++) checkServerPurpose(chain[i]!);
  if (anchor === 0) return;
  for (let i = 0; i < anchor; i++) {
    const child = chain[i]!;
    const issuer = chain[i + 1]!;
    if (!issuer.ca || !child.checkIssued(issuer) || !child.verify(issuer.publicKey)) {
      throw new RelayError('TLS_VERIFY_FAILED', `relay certificate chain is broken: ${describeChain([child, issuer])} is not a valid signature link`);
    }
  }
  checkServerName(chain[0]!, host);
}
