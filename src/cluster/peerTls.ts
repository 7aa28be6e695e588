import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { RelayError } from '../common/relayError.js';
import type { RelayConfig } from '../config/configSchema.js';

/** The certificate, key and CA of the links between instances (`cluster.peer.*File`). */
export interface PeerTls {
  readonly cert: string;
  readonly key: string;
  /** The only CA a peer's certificate may chain to. */
  readonly ca: string;
}

function readFile(key: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new RelayError('CONFIG_INVALID', `cluster.peer.${key}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * Reads `cluster.peer.certFile`, `keyFile` and `caFile`. Throws `CONFIG_INVALID`
 * naming the key when a file cannot be read or the certificate and key do not form a
 * usable TLS identity.
 */
export function loadPeerTls(peer: RelayConfig['cluster']['peer']): PeerTls {
  if (peer.certFile === undefined || peer.keyFile === undefined || peer.caFile === undefined) {
    throw new RelayError('CONFIG_INVALID', 'cluster.peer: certFile, keyFile and caFile are required when cluster.store.url is set');
  }
  const tls = { cert: readFile('certFile', peer.certFile), key: readFile('keyFile', peer.keyFile), ca: readFile('caFile', peer.caFile) };
  try {
    createSecureContext(tls);
  } catch (error) {
    throw new RelayError('CONFIG_INVALID', `cluster.peer: the certificate, key and CA do not form a TLS identity (${(error as Error).message})`);
  }
  return tls;
}
