import { readFileSync } from 'node:fs';
import { loadJwksFile } from '../auth/jwtKeys.js';
import { certificateValidities, certificateValidity } from '../certs/certificateValidity.js';
import type { RelayConfig } from '../config/configSchema.js';
import type { CertificateSeries, CertificateUse } from '../metrics/certificateMetrics.js';
import type { TlsMaterial } from './tlsMaterial.js';

/** `pem`'s certificates as series: the first as `first`, the rest (its chain) as `rest`. */
function chainSeries(pem: string, first: CertificateUse, rest: CertificateUse): CertificateSeries[] {
  return certificateValidities(pem).map((validity, index) => ({ use: index === 0 ? first : rest, ...validity }));
}

/** Every certificate in `pem` as `use`. */
function bundleSeries(pem: string, use: CertificateUse): CertificateSeries[] {
  return certificateValidities(pem).map((validity) => ({ use, ...validity }));
}

/**
 * The certificates of a file, or none when it cannot be read or holds something else.
 * Only for files the relay's loaders have read and checked already: this never fails a
 * start or a reload, it only shows what is there.
 */
function fileSeries(file: string | undefined, series: (pem: string) => CertificateSeries[]): CertificateSeries[] {
  if (file === undefined) return [];
  try {
    return series(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
}

/** The certificates of the `x5c` members of `auth.jwt.jwksFile` (RFC 7517 §4.7: base64 DER, the key's own first). */
function jwksSeries(file: string | undefined): CertificateSeries[] {
  if (file === undefined) return [];
  try {
    return loadJwksFile(file, 'auth.jwt.jwksFile').keys.flatMap((jwk) =>
      (Array.isArray(jwk.x5c) ? jwk.x5c : []).map((der): CertificateSeries => ({ use: 'jwt', ...certificateValidity(Buffer.from(der, 'base64')) })),
    );
  } catch {
    return [];
  }
}

/**
 * The certificates a reload may replace: the one the wss and tcps listeners present
 * (`tls`, with its chain), the client CAs (`clientCa`, the PEM of `tls.clientCaFile`),
 * the CAs of `tcps://` targets and the certificates that carry JWT keys. Never throws.
 */
export function reloadableCertificates(config: RelayConfig, tls: Pick<TlsMaterial, 'cert'>, clientCa: string | undefined): CertificateSeries[] {
  const series = (read: () => CertificateSeries[]): CertificateSeries[] => {
    try {
      return read();
    } catch {
      return [];
    }
  };
  return [
    ...series(() => chainSeries(tls.cert, 'server', 'server-chain')),
    ...series(() => (clientCa !== undefined ? bundleSeries(clientCa, 'client-ca') : [])),
    ...Object.values(config.targets).flatMap((target) => fileSeries(target.caFile, (pem) => bundleSeries(pem, 'target-ca'))),
    ...(config.auth.jwt.enabled ? [...fileSeries(config.auth.jwt.keyFile, (pem) => bundleSeries(pem, 'jwt')), ...jwksSeries(config.auth.jwt.jwksFile)] : []),
  ];
}

/**
 * The certificates of the links between instances (`cluster.peer.*File`), read at start:
 * they change only with a restart, so a reload keeps showing these. None for a relay alone.
 */
export function peerCertificates(config: RelayConfig): CertificateSeries[] {
  if (config.cluster.store.url === undefined) return [];
  const { certFile, caFile } = config.cluster.peer;
  return [...fileSeries(certFile, (pem) => chainSeries(pem, 'peer', 'peer-chain')), ...fileSeries(caFile, (pem) => bundleSeries(pem, 'peer-ca'))];
}
