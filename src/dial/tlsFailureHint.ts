import type { X509Certificate } from 'node:crypto';
import { certificateFingerprint } from '../certs/certificateFactory.js';
import { certificateNames } from '../certs/serverNames.js';

/**
 * What went wrong when a relay's certificate did not verify, as far as a person can fix
 * it: the certificate does not name the host that was dialed, or it is not signed by a
 * CA the client trusts, or something else (expired, wrong purpose, ...).
 */
export type TlsFailureKind = 'name-mismatch' | 'unknown-ca' | 'other';

/** Node's code for a name the certificate does not cover, and OpenSSL's (X509_V_ERR_HOSTNAME_MISMATCH, _IP_ADDRESS_MISMATCH). */
const nameMismatchCodes: ReadonlySet<string> = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH', 'IP_ADDRESS_MISMATCH']);

/** OpenSSL's verify codes for a chain that ends at no trusted CA (as Node names them). */
const unknownCaCodes: ReadonlySet<string> = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

/** Sorts a verification failure by its code (`TLSSocket.authorizationError`, or an error's `code`). */
export function classifyTlsFailure(code: string): TlsFailureKind {
  if (nameMismatchCodes.has(code)) return 'name-mismatch';
  if (unknownCaCodes.has(code)) return 'unknown-ca';
  return 'other';
}

/**
 * The fix for a certificate that does not name `host`: the names it covers, and how
 * to make the relay's certificate cover `host`. The Python agent words it the same
 * (test/fixtures/tlsFailureHintVectors.json).
 */
export function nameMismatchHint(names: readonly string[], host: string): string {
  const covered = names.length > 0 ? names.join(', ') : 'no name';
  return `the relay's certificate covers ${covered}, you dialed ${host}; start the relay with --public-name ${host} (or add it to tls.publicNames), or dial a name it covers`;
}

/**
 * The fix for a certificate signed by no CA in `trust` (`CA file <path>` or `system
 * trust store`): the fingerprints the relay presented (its server certificate, and its
 * CA when it sent one), to compare with the relay host's before pinning one, or copying
 * the relay's `ca.pem`. Worded as the Python agent does.
 */
export function unknownCaHint(trust: string, serverFingerprint: string, caFingerprint: string | undefined): string {
  const presented = caFingerprint === undefined ? `server ${serverFingerprint} and no CA` : `server ${serverFingerprint}, CA ${caFingerprint}`;
  return (
    `the relay's certificate does not chain to the ${trust}; the relay presented ${presented}; ` +
    `compare with \`dbgrelay certs fingerprint <dataDir>/${caFingerprint === undefined ? 'server' : 'ca'}.pem\` on the relay host, then pin it with --fingerprint ${caFingerprint ?? serverFingerprint} ` +
    `or copy the relay's ca.pem and pass it with --ca`
  );
}

/** What a client knows about a failed verification: the failure's code, the host it dialed, the chain it was shown and what it trusts. */
export interface TlsFailureFacts {
  /** `TLSSocket.authorizationError` or an error's `code`. */
  readonly code: string;
  /** The host name or address that was dialed. */
  readonly host: string;
  /** The chain the relay presented, leaf first (see `peerCertificateChain`). */
  readonly chain: readonly X509Certificate[];
  /** What the client trusts, as `describeTrust` says it: `CA file <path>`, `system trust store`. */
  readonly trust: string;
}

/**
 * The sentence that names the fix for a failed verification, or undefined when its kind
 * is `other` or the relay presented no certificate (the failure's own text is all there is).
 */
export function tlsFailureHint(facts: TlsFailureFacts): string | undefined {
  const leaf = facts.chain[0];
  if (leaf === undefined) return undefined;
  switch (classifyTlsFailure(facts.code)) {
    case 'name-mismatch':
      return nameMismatchHint(certificateNames(leaf), facts.host);
    case 'unknown-ca': {
      const issuer = facts.chain.length > 1 ? facts.chain[facts.chain.length - 1] : undefined;
      return unknownCaHint(facts.trust, certificateFingerprint(leaf.raw), issuer && certificateFingerprint(issuer.raw));
    }
    case 'other':
      return undefined;
  }
}
