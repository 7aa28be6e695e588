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
 * Who presented the certificate: a relay, or a direct debug endpoint (a process that
 * called the agent's `enable_attach(secret, address, certfile, keyfile)`), whose fixes differ.
 */
export type TlsPeer = 'relay' | 'debug endpoint';

/**
 * The fix for a certificate that does not name `host`: the names it covers, and how
 * to make the relay's certificate cover `host` (its development certificate, or its
 * own `tls.certFile`). The Python agent words it the same
 * (test/fixtures/tlsFailureHintVectors.json).
 */
export function nameMismatchHint(names: readonly string[], host: string, peer: TlsPeer = 'relay'): string {
  const covered = names.length > 0 ? names.join(', ') : 'no name';
  const fix =
    peer === 'relay'
      ? `make the relay's certificate cover ${host}: start it with --public-name ${host} (development certificate) or give it a tls.certFile whose names include ${host}`
      : `give enable_attach a certificate (certfile) that covers ${host}`;
  return `the ${peer}'s certificate covers ${covered}, you dialed ${host}; ${fix}, or dial a name it covers`;
}

/**
 * The fix for a certificate signed by no CA in `trust` (`CA file <path>` or `system
 * trust store`): the fingerprints the relay presented (its server certificate, and its
 * CA when it sent one), to compare with the relay host's before pinning one, or copying
 * the relay's `ca.pem`. Worded as the Python agent does.
 */
export function unknownCaHint(trust: string, serverFingerprint: string, caFingerprint: string | undefined, peer: TlsPeer = 'relay'): string {
  const presented = caFingerprint === undefined ? `server ${serverFingerprint} and no CA` : `server ${serverFingerprint}, CA ${caFingerprint}`;
  const pin = caFingerprint ?? serverFingerprint;
  const check =
    peer === 'relay'
      ? `compare with \`dbgrelay certs fingerprint <dataDir>/${caFingerprint === undefined ? 'server' : 'ca'}.pem\` on the relay host, then pin it with --fingerprint ${pin} or copy the relay's ca.pem and pass it with --ca`
      : `compare with \`dbgrelay certs fingerprint <certfile>\` on its host, then pin it with --fingerprint ${pin} or pass the CA that signed it with --ca`;
  return `the ${peer}'s certificate does not chain to the ${trust}; the ${peer} presented ${presented}; ${check}`;
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
 * is `other` or the peer presented no certificate (the failure's own text is all there is).
 */
export function tlsFailureHint(facts: TlsFailureFacts, peer: TlsPeer = 'relay'): string | undefined {
  const leaf = facts.chain[0];
  if (leaf === undefined) return undefined;
  switch (classifyTlsFailure(facts.code)) {
    case 'name-mismatch':
      return nameMismatchHint(certificateNames(leaf), facts.host, peer);
    case 'unknown-ca': {
      const issuer = facts.chain.length > 1 ? facts.chain[facts.chain.length - 1] : undefined;
      return unknownCaHint(facts.trust, certificateFingerprint(leaf.raw), issuer && certificateFingerprint(issuer.raw), peer);
    }
    case 'other':
      return undefined;
  }
}

/** What `connectVerifiedTls` keeps as the `cause` of a `TLS_VERIFY_FAILED` it words with a hint: the facts and `host:port`. */
export interface TlsFailure extends TlsFailureFacts {
  readonly where: string;
}

/** True when `cause` (a `RelayError`'s) is a {@link TlsFailure}. */
export function isTlsFailure(cause: unknown): cause is TlsFailure {
  return typeof cause === 'object' && cause !== null && 'where' in cause && 'chain' in cause && 'code' in cause && 'host' in cause && 'trust' in cause;
}

/** The whole message of a {@link TlsFailure} that has a hint (see {@link tlsFailureHint}), for `peer`; undefined otherwise. */
export function tlsFailureMessage(failure: TlsFailure, peer: TlsPeer = 'relay'): string | undefined {
  const hint = tlsFailureHint(failure, peer);
  return hint === undefined ? undefined : `cannot verify the ${peer}'s certificate at ${failure.where}: ${hint}`;
}
