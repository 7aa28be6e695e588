import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificateFingerprint, createCa, createLeaf, loopbackNames } from './certificateFactory.js';

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

/**
 * Makes sure `dataDir` (which must exist) holds a development CA and a server
 * certificate for localhost, 127.0.0.1 and ::1, creating them (keys mode 0600) when
 * any of the four files is missing. Development only: production configures
 * `tls.certFile`/`tls.keyFile`.
 */
export function ensureDevCertificates(dataDir: string): DevCertificates {
  const paths = devCertificatePaths(dataDir);
  let created = false;
  if (![paths.caFile, paths.caKeyFile, paths.certFile, paths.keyFile].every((file) => existsSync(file))) {
    const ca = createCa('dbgrelay development CA');
    const server = createLeaf(ca, 'localhost', { server: loopbackNames });
    const write = (file: string, pem: string, mode: number): void => {
      writeFileSync(file, pem, { mode });
      chmodSync(file, mode); // an existing file keeps its mode on write
    };
    write(paths.caKeyFile, ca.keyPem, 0o600);
    write(paths.caFile, ca.certPem, 0o644);
    write(paths.keyFile, server.keyPem, 0o600);
    write(paths.certFile, server.certPem, 0o644);
    created = true;
  }
  const caPem = readFileSync(paths.caFile, 'utf8');
  const leafPem = readFileSync(paths.certFile, 'utf8');
  return {
    ...paths,
    chainPem: leafPem.trimEnd() + '\n' + caPem.trimEnd() + '\n',
    keyPem: readFileSync(paths.keyFile, 'utf8'),
    caFingerprint: certificateFingerprint(caPem),
    created,
  };
}
