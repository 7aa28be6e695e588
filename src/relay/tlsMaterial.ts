import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { certificateFingerprint, pemCertificates } from '../certs/certificateFactory.js';
import { ensureDevCertificates } from '../certs/devCertificates.js';
import { certificateNames } from '../certs/serverNames.js';
import { RelayError } from '../common/relayError.js';
import type { RelayConfig } from '../config/configSchema.js';

/** The server's certificate chain and key, and what to tell users about it. */
export interface TlsMaterial {
  /** Leaf PEM followed by any chain certificates. */
  readonly cert: string;
  readonly key: string;
  /** `sha256:` fingerprint of the leaf certificate. */
  readonly leafFingerprint: string;
  /** `sha256:` fingerprint of the last certificate of the chain (the CA), for pinning. */
  readonly caFingerprint: string;
  /** `dev`: development CA in the data directory; `files`: `tls.certFile`/`tls.keyFile`. */
  readonly source: 'dev' | 'files';
  /** The CA certificate file agents and clients can trust (dev certificates only). */
  readonly caFile?: string;
  /** True when the development certificates were created by this start. */
  readonly created: boolean;
  /** True when this load made a new development server certificate for other `tls.publicNames` (same CA). */
  readonly remade: boolean;
  /** The DNS names and IP addresses the leaf certificate covers (its subjectAltName). */
  readonly names: readonly string[];
}

function readPem(file: string, key: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new RelayError('CONFIG_INVALID', `${key}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * Loads the TLS material: `tls.certFile` and `tls.keyFile` when configured, else the
 * development CA and server certificate in `dataDir` (created on first start, made
 * again for other `tls.publicNames`: see `ensureDevCertificates`). Throws
 * `CONFIG_INVALID` when files are unreadable or do not form a usable pair.
 */
export function loadTlsMaterial(config: RelayConfig): TlsMaterial {
  let material: Omit<TlsMaterial, 'leafFingerprint' | 'caFingerprint' | 'names'>;
  if (config.tls.certFile !== undefined && config.tls.keyFile !== undefined) {
    material = {
      cert: readPem(config.tls.certFile, 'tls.certFile'),
      key: readPem(config.tls.keyFile, 'tls.keyFile'),
      source: 'files',
      created: false,
      remade: false,
    };
  } else {
    const dev = ensureDevCertificates(config.dataDir, config.tls.publicNames);
    material = { cert: dev.chainPem, key: dev.keyPem, source: 'dev', caFile: dev.caFile, created: dev.created, remade: dev.remade };
  }
  const blocks = pemCertificates(material.cert);
  if (blocks.length === 0) throw new RelayError('CONFIG_INVALID', 'tls.certFile: no PEM certificate found');
  try {
    createSecureContext({ cert: material.cert, key: material.key });
  } catch (error) {
    throw new RelayError('CONFIG_INVALID', `tls.certFile/tls.keyFile: unusable certificate or key (${(error as Error).message})`);
  }
  return {
    ...material,
    leafFingerprint: certificateFingerprint(blocks[0]!),
    names: certificateNames(new X509Certificate(blocks[0]!)),
    caFingerprint: certificateFingerprint(blocks[blocks.length - 1]!),
  };
}
