import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificateFingerprint, createCa, createLeaf, loopbackNames, type CertificateAndKey, type ServerNames } from './certificateFactory.js';
import { certificateNames, nameList, parseServerNames, sameNames, unionOfNames } from './serverNames.js';

/** Paths of the development CA and server certificate inside the data directory. */
export interface DevCertificatePaths {
  readonly caFile: string;
  readonly caKeyFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** What {@link ensureDevCertificates} found or made. */
export interface DevCertificates extends DevCertificatePaths {
  /** Leaf PEM followed by the CA PEM: what the server presents. */
  readonly chainPem: string;
  readonly keyPem: string;
  /** `sha256:` fingerprint of the development CA, for pinning. */
  readonly caFingerprint: string;
  /** True when this call created them. */
  readonly created: boolean;
  /** True when this call made a new server certificate for other names, signed by the existing CA. */
  readonly remade: boolean;
  /** The DNS names and IP addresses the server certificate covers. */
  readonly names: readonly string[];
}

/** Where the development certificates live in `dataDir`. */
export function devCertificatePaths(dataDir: string): DevCertificatePaths {
  return {
    caFile: join(dataDir, 'ca.pem'),
    caKeyFile: join(dataDir, 'ca-key.pem'),
    certFile: join(dataDir, 'server.pem'),
    keyFile: join(dataDir, 'server-key.pem'),
  };
}

function write(file: string, pem: string, mode: number): void {
  writeFileSync(file, pem, { mode });
  chmodSync(file, mode); // an existing file keeps its mode on write
}

/**
 * Writes the server key and certificate next to their places first, then renames the
 * key and then the certificate over the old ones: a crash leaves either the old pair,
 * or the new key with the old certificate, which {@link pairMatches} notices at the
 * next start (and the pair is made again) instead of a half-written file.
 */
function writeServerCertificate(paths: DevCertificatePaths, ca: CertificateAndKey, names: ServerNames): void {
  const server = createLeaf(ca, 'localhost', { server: names });
  const keyTemp = `${paths.keyFile}.${process.pid}.tmp`;
  const certTemp = `${paths.certFile}.${process.pid}.tmp`;
  write(keyTemp, server.keyPem, 0o600);
  write(certTemp, server.certPem, 0o644);
  renameSync(keyTemp, paths.keyFile);
  renameSync(certTemp, paths.certFile);
}

/** True when the server certificate on disk is for the server key on disk (and both parse). */
function pairMatches(paths: DevCertificatePaths): boolean {
  try {
    return new X509Certificate(readFileSync(paths.certFile, 'utf8')).checkPrivateKey(createPrivateKey(readFileSync(paths.keyFile, 'utf8')));
  } catch {
    return false;
  }
}

/**
 * Makes sure `dataDir` (which must exist) holds a development CA and a server
 * certificate, creating all four files (keys mode 0600) when any is missing. The
 * certificate covers localhost, 127.0.0.1 and ::1, plus `publicNames` (the names
 * agents and clients on other hosts dial: DNS names or IP addresses, `tls.publicNames`).
 * When `publicNames` are given and the existing certificate covers other names than
 * those and loopback, a new server certificate is made, signed by the existing CA, so
 * that copied `ca.pem` files and pinned CA fingerprints stay valid. Without
 * `publicNames` an existing certificate is used as it is (one `dbgrelay certs init
 * --dir <dataDir>` made included). A server key and certificate that do not belong
 * together (a crash between the two renames) are made again too. Throws
 * `CONFIG_INVALID` for a name that is neither.
 * Development only: production configures `tls.certFile`/`tls.keyFile`.
 */
export function ensureDevCertificates(dataDir: string, publicNames: readonly string[] = []): DevCertificates {
  const paths = devCertificatePaths(dataDir);
  const wanted = unionOfNames(loopbackNames, parseServerNames(publicNames, 'tls.publicNames'));
  let created = false;
  let remade = false;
  if (![paths.caFile, paths.caKeyFile, paths.certFile, paths.keyFile].every((file) => existsSync(file))) {
    const ca = createCa('dbgrelay development CA');
    write(paths.caKeyFile, ca.keyPem, 0o600);
    write(paths.caFile, ca.certPem, 0o644);
    writeServerCertificate(paths, ca, wanted);
    created = true;
  } else if (!pairMatches(paths) || (publicNames.length > 0 && !sameNames(certificateNames(new X509Certificate(readFileSync(paths.certFile, 'utf8'))), nameList(wanted)))) {
    writeServerCertificate(paths, { certPem: readFileSync(paths.caFile, 'utf8'), keyPem: readFileSync(paths.caKeyFile, 'utf8') }, wanted);
    remade = true;
  }
  const caPem = readFileSync(paths.caFile, 'utf8');
  const leafPem = readFileSync(paths.certFile, 'utf8');
  return {
    ...paths,
    chainPem: leafPem.trimEnd() + '\n' + caPem.trimEnd() + '\n',
    keyPem: readFileSync(paths.keyFile, 'utf8'),
    caFingerprint: certificateFingerprint(caPem),
    created,
    remade,
    names: certificateNames(new X509Certificate(leafPem)),
  };
}
