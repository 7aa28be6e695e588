import type { TLSSocket } from 'node:tls';
import { certificateFingerprint } from '../certs/certificateFactory.js';
import { RelayError } from '../common/relayError.js';
import { matchesPattern } from './grants.js';
import { grantsFromScopes } from '../protocol/scopes.js';
import { certificateIdentity } from './identityHint.js';
import type { Principal } from './principal.js';

/** Whether a listener asks for client certificates (config `listeners.<name>.clientCertificates`). */
export type ClientCertificateMode = 'off' | 'optional' | 'required';

/** The client certificate a TLS peer presented, as the relay saw it. */
export interface PresentedCertificate {
  /** True when it chains to `tls.clientCaFile` and is in its validity period (OpenSSL said so). */
  readonly verified: boolean;
  /** OpenSSL's reason when not verified, e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`. */
  readonly verifyError?: string;
  /** The subject's common names (normally exactly one). */
  readonly commonNames: readonly string[];
  /** `sha256:` fingerprint, for logs. */
  readonly fingerprint: string;
  /** End of validity (epoch ms). */
  readonly notAfter: number;
}

/**
 * The certificate the peer of `socket` presented, or undefined when it presented none
 * (or the listener did not ask). The peer proved it holds the certificate's key in the
 * TLS handshake whether or not the chain verified.
 */
export function presentedCertificate(socket: TLSSocket): PresentedCertificate | undefined {
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.raw || cert.raw.length === 0) return undefined;
  const cn = cert.subject?.CN as string | string[] | undefined;
  const error = socket.authorizationError as Error | string | null | undefined;
  return {
    verified: socket.authorized,
    ...(error ? { verifyError: typeof error === 'string' ? error : ((error as { code?: string }).code ?? error.message) } : {}),
    commonNames: cn === undefined ? [] : Array.isArray(cn) ? cn : [cn],
    fingerprint: certificateFingerprint(cert.raw),
    notAfter: Date.parse(cert.valid_to),
  };
}

/** One rule of `auth.certificates.grants`: certificates whose CN matches `cn` get `scopes`. */
export interface CertificateGrantRule {
  /** Pattern on the subject common name (`*` any run, `?` one character). */
  readonly cn: string;
  /** Scopes as in a JWT: `attach:<pattern>`, `register:<pattern>`, `admin`. */
  readonly scopes: readonly string[];
}

/**
 * Turns a verified client certificate into a {@link Principal} (docs/protocol.md §2):
 * id `cert:<CN>`, grants the union of the scopes of every rule whose `cn` pattern
 * matches, valid until the certificate's `notAfter`. A certificate that did not
 * verify, has no single printable CN, or matches no rule is refused with
 * `AUTH_FAILED`; the message tells the peer why without naming the rules.
 */
export class CertificateAuthenticator {
  constructor(private readonly rules: readonly CertificateGrantRule[]) {}

  authenticate(cert: PresentedCertificate): Principal {
    if (!cert.verified) {
      throw new RelayError('AUTH_FAILED', `client certificate not trusted (${cert.verifyError ?? 'verification failed'})`);
    }
    if (cert.commonNames.length !== 1) throw new RelayError('AUTH_FAILED', 'client certificate must have exactly one subject common name');
    const cn = cert.commonNames[0]!;
    const id = certificateIdentity(cn);
    if (id === undefined) throw new RelayError('AUTH_FAILED', 'client certificate common name is not a short printable string');
    const scopes = this.rules.filter((rule) => matchesPattern(rule.cn, cn)).flatMap((rule) => rule.scopes);
    const grants = grantsFromScopes(scopes);
    if (grants.register.length === 0 && grants.attach.length === 0 && !grants.admin) {
      throw new RelayError('AUTH_FAILED', 'client certificate is not authorized on this relay');
    }
    return Object.freeze({ id, grants, method: 'certificate' as const, expiresAt: cert.notAfter });
  }
}
