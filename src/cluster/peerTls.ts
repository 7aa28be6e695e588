import { createSecureContext } from 'node:tls';
import { certificateFingerprint, pemCertificates } from '../certs/certificateFactory.js';
import { readKeyFile } from '../auth/jwtKeys.js';
import { RelayError } from '../common/relayError.js';
import type { RelayConfig } from '../config/configSchema.js';

/** How often the kernel probes an idle link between instances (or to the store), so that a host that vanished is noticed. */
export const linkKeepAliveMs = 10_000;

/** The certificate, key and CA of the links between instances (`cluster.peer.*File`). */
export interface PeerTls {
  readonly cert: string;
  readonly key: string;
  /** The only CA a peer's certificate may chain to. */
  readonly ca: string;
}

/**
 * Reads `cluster.peer.certFile`, `keyFile` and `caFile`. Throws `CONFIG_INVALID`
 * naming the key when a file cannot be read, the certificate and key do not form a
 * usable TLS identity, or the peer CA is the CA of client certificates (`clientCaFile`).
 */
export function loadPeerTls(peer: RelayConfig['cluster']['peer'], clientCaFile: string | undefined): PeerTls {
  if (peer.certFile === undefined || peer.keyFile === undefined || peer.caFile === undefined) {
    throw new RelayError('CONFIG_INVALID', 'cluster.peer: certFile, keyFile and caFile are required when cluster.store.url is set');
  }
  const tls = {
    cert: readKeyFile(peer.certFile, 'cluster.peer.certFile'),
    key: readKeyFile(peer.keyFile, 'cluster.peer.keyFile'),
    ca: readKeyFile(peer.caFile, 'cluster.peer.caFile'),
  };
  // A peer speaks for any principal: the CA that admits peers must admit nobody else.
  if (clientCaFile !== undefined && sharesCertificate(readKeyFile(clientCaFile, 'tls.clientCaFile'), tls.ca)) {
    throw new RelayError(
      'CONFIG_INVALID',
      'cluster.peer.caFile shares a CA certificate with tls.clientCaFile (the CA of client certificates): relay instances need a CA of their own (dbgrelay certs init --dir DIR, then dbgrelay certs peer NAME --dir DIR)',
    );
  }
  try {
    createSecureContext(tls);
  } catch (error) {
    throw new RelayError('CONFIG_INVALID', `cluster.peer: the certificate, key and CA do not form a TLS identity (${(error as Error).message})`);
  }
  return tls;
}

/**
 * Why a link to a peer failed, for the operator's log: its code, and for a certificate
 * one side's CA did not sign, the fix (peers are not named by DNS, so there is no name
 * to mismatch: only the cluster CA proves a peer).
 */
export function peerDialFailure(error: NodeJS.ErrnoException): string {
  const code = error.code ?? error.message;
  if (/SELF_SIGNED|ISSUER|VERIFY_LEAF/.test(code)) {
    return `${code}: the peer's certificate is not signed by this instance's cluster.peer.caFile; give every instance a peer certificate of the one cluster CA (dbgrelay certs peer NAME --dir <its directory>)`;
  }
  return code;
}

/** True when the PEM bundles `a` and `b` hold one same certificate (by SHA-256 fingerprint), whatever else and however written. */
function sharesCertificate(a: string, b: string): boolean {
  const fingerprints = (pem: string): string[] =>
    pemCertificates(pem).flatMap((block) => {
      try {
        return [certificateFingerprint(block)];
      } catch {
        return []; // not a certificate: the TLS setup refuses the file
      }
    });
  const ofA = new Set(fingerprints(a));
  return fingerprints(b).some((fingerprint) => ofA.has(fingerprint));
}
