import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { certificateFingerprint } from '../certs/certificateFactory.js';
import { RelayError } from '../common/relayError.js';

/** A client certificate and its key, presented to the relay for mTLS (docs/protocol.md §2). */
export interface ClientIdentity {
  readonly certPem: string;
  readonly keyPem: string;
  /** The certificate file, for messages. */
  readonly source: string;
  /** `sha256:` fingerprint of the certificate. */
  readonly fingerprint: string;
}

function read(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new RelayError('CONFIG_INVALID', `${flag}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * Reads a client certificate (PEM, optionally followed by its chain) and its private
 * key, and checks that they belong together. Throws `CONFIG_INVALID`; messages name
 * the files, never key material.
 */
export function loadClientIdentity(certFile: string, keyFile: string): ClientIdentity {
  const certPem = read(certFile, '--cert');
  const keyPem = read(keyFile, '--key');
  let fingerprint: string;
  try {
    fingerprint = certificateFingerprint(new X509Certificate(certPem).raw);
  } catch (error) {
    throw new RelayError('CONFIG_INVALID', `--cert: ${certFile} is not a PEM certificate (${(error as Error).message})`);
  }
  try {
    createSecureContext({ cert: certPem, key: keyPem });
  } catch (error) {
    throw new RelayError('CONFIG_INVALID', `--cert/--key: ${keyFile} is not the private key of ${certFile} (${(error as Error).message})`);
  }
  return { certPem, keyPem, source: certFile, fingerprint };
}
