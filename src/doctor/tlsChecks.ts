import type { X509Certificate } from 'node:crypto';
import { isIP, type Socket } from 'node:net';
import { checkServerIdentity, connect, type TLSSocket } from 'node:tls';
import { certificateFingerprint } from '../certs/certificateFactory.js';
import { isRelayError } from '../common/relayError.js';
import { tlsPolicy } from '../common/tlsPolicy.js';
import type { ClientIdentity } from '../dial/clientIdentity.js';
import { openConnectTunnel, type HttpProxy } from '../dial/httpsProxy.js';
import type { RelayEndpoint } from '../dial/relayEndpoint.js';
import { tlsFailureHint } from '../dial/tlsFailureHint.js';
import { checkPinnedChain, describeTrust, peerCertificateChain, type TlsTrust } from '../dial/tlsTrust.js';
import { checkResult, type DoctorCheckResult } from './doctorCheck.js';

/** A certificate as `dbgrelay doctor` shows it. */
export interface CertificateFacts {
  readonly subject: string;
  readonly subjectAltName?: string;
  readonly issuer: string;
  readonly validFrom: string;
  readonly validTo: string;
  readonly fingerprint: string;
}

function factsOf(cert: X509Certificate): CertificateFacts {
  return {
    subject: cert.subject.replaceAll('\n', ', '),
    ...(cert.subjectAltName !== undefined ? { subjectAltName: cert.subjectAltName } : {}),
    issuer: cert.issuer.replaceAll('\n', ', '),
    validFrom: cert.validFrom,
    validTo: cert.validTo,
    fingerprint: certificateFingerprint(cert.raw),
  };
}

/** The relay's certificate chain, shown whether or not it is trusted, and why it is not. */
interface Presented {
  readonly chain: X509Certificate[];
  readonly protocol: string | null;
  /** OpenSSL's verify result against the configured CA or the system store (undefined: verified). */
  readonly verifyCode?: string;
}

/** A handshake that accepts any certificate, to see the chain; nothing of ours is written on it. */
function presentedChain(endpoint: RelayEndpoint, trust: TlsTrust, timeoutMs: number, identity: ClientIdentity | undefined, tunnel: Socket | undefined): Promise<Presented> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connect({
      ...(tunnel ? { socket: tunnel } : { host: endpoint.host, port: endpoint.port }),
      ...tlsPolicy,
      rejectUnauthorized: false,
      ...(isIP(endpoint.host) === 0 ? { servername: endpoint.host } : {}),
      ...(trust.kind === 'ca' ? { ca: trust.caPem } : {}),
      ...(identity ? { cert: identity.certPem, key: identity.keyPem } : {}),
    });
    const timer = setTimeout(() => socket.destroy(new Error(`no TLS handshake within ${timeoutMs} ms`)), timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const authorizationError = socket.authorizationError as unknown as Error | string | null;
      const verifyCode = authorizationError ? ((authorizationError as NodeJS.ErrnoException).code ?? String(authorizationError)) : undefined;
      resolve({ chain: peerCertificateChain(socket), protocol: socket.getProtocol(), ...(verifyCode !== undefined ? { verifyCode } : {}) });
      socket.destroy();
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Why `chain` is not trusted for `endpoint.host` under `trust`: an error code and message, or undefined when it is. */
function trustFailure(presented: Presented, host: string, trust: TlsTrust): { code: string; message: string; relayCode: 'TLS_VERIFY_FAILED' | 'TLS_PIN_MISMATCH' } | undefined {
  if (trust.kind === 'pin') {
    try {
      checkPinnedChain(presented.chain, host, trust.fingerprints);
      return undefined;
    } catch (error) {
      const relayCode = isRelayError(error, 'TLS_PIN_MISMATCH') ? 'TLS_PIN_MISMATCH' : 'TLS_VERIFY_FAILED';
      return { code: relayCode, message: (error as Error).message, relayCode };
    }
  }
  if (presented.verifyCode !== undefined) return { code: presented.verifyCode, message: presented.verifyCode, relayCode: 'TLS_VERIFY_FAILED' };
  const leaf = presented.chain[0];
  const nameError = leaf ? checkServerIdentity(host, leaf.toLegacyObject()) : new Error('no certificate');
  if (nameError !== undefined)
    return { code: (nameError as NodeJS.ErrnoException).code ?? 'ERR_TLS_CERT_ALTNAME_INVALID', message: nameError.message, relayCode: 'TLS_VERIFY_FAILED' };
  return undefined;
}

/** Days before the leaf's expiry from which doctor warns. */
export const expiryWarningDays = 14;

/**
 * Shows the chain the relay presents (subject, names, issuer, dates, fingerprint of
 * each certificate) and whether `trust` (CA file, pins or system store) accepts it for
 * the host dialed, as a session's connection would; a failure's fix comes from the
 * dial side's TLS hints (tlsFailureHint.ts).
 */
export async function checkTls(
  endpoint: RelayEndpoint,
  trust: TlsTrust,
  timeoutMs: number,
  identity: ClientIdentity | undefined,
  proxy: HttpProxy | undefined,
  now = new Date(),
): Promise<DoctorCheckResult> {
  const trusted = describeTrust(trust);
  let presented: Presented;
  try {
    const tunnel = proxy ? await openConnectTunnel(proxy, endpoint.host, endpoint.port, timeoutMs) : undefined;
    presented = await presentedChain(endpoint, trust, timeoutMs, identity, tunnel);
  } catch (error) {
    return checkResult('tls', 'fail', `no TLS handshake with ${endpoint.display}: ${(error as Error).message}`, {
      code: 'RELAY_UNREACHABLE',
      fix: "is this port the relay's TLS listener (and not a plain HTTP port or another service)?",
    });
  }
  const chain = presented.chain.map(factsOf);
  const details = { trust: trusted, protocol: presented.protocol, chain };
  const failure = trustFailure(presented, endpoint.host, trust);
  if (failure !== undefined) {
    const fix = tlsFailureHint({ code: failure.code, host: endpoint.host, chain: presented.chain, trust: trusted });
    return checkResult('tls', 'fail', `the relay's certificate is not trusted by the ${trusted}: ${failure.message}`, { code: failure.relayCode, fix, details });
  }
  const leaf = presented.chain[0]!;
  const daysLeft = Math.floor((new Date(leaf.validTo).getTime() - now.getTime()) / 86_400_000);
  const summary = `${presented.protocol ?? 'TLS'}, trusted by the ${trusted}; server ${chain[0]!.fingerprint}, valid until ${leaf.validTo}`;
  if (daysLeft < expiryWarningDays) return checkResult('tls', 'warn', `${summary} (${daysLeft} days left)`, { fix: "renew the relay's certificate before it expires", details });
  return checkResult('tls', 'ok', summary, { details });
}
