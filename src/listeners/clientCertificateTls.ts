import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TlsOptions } from 'node:tls';
import type { ClientCertificateMode } from '../auth/clientCertificate.js';
import { RelayError } from '../common/relayError.js';
import type { RelayConfig } from '../config/configSchema.js';

const pemBlock = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Reads `tls.clientCaFile`, the CA certificates client certificates must chain to.
 * Undefined when not configured. Throws `CONFIG_INVALID` when the file cannot be read
 * or holds no valid PEM certificate.
 */
export function loadClientCa(config: RelayConfig): string | undefined {
  const file = config.tls.clientCaFile;
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new RelayError('CONFIG_INVALID', `tls.clientCaFile: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const blocks = text.match(pemBlock) ?? [];
  if (blocks.length === 0) throw new RelayError('CONFIG_INVALID', `tls.clientCaFile: no PEM certificate in ${file}`);
  for (const block of blocks) {
    try {
      if (!new X509Certificate(block).ca) throw new Error('not a CA certificate');
    } catch (error) {
      throw new RelayError('CONFIG_INVALID', `tls.clientCaFile: ${file}: ${(error as Error).message}`);
    }
  }
  return blocks.join('\n') + '\n';
}

/**
 * TLS server options for a listener's `clientCertificates` mode. `optional` and
 * `required` both ask for a certificate and let the handshake finish even when it
 * does not verify: the relay then refuses with `AUTH_REQUIRED`/`AUTH_FAILED` and a
 * message the client can show (docs/protocol.md §2), and counts the failure. Only
 * `clientCa` is trusted for client certificates, never the system store.
 */
export function clientCertificateServerOptions(mode: ClientCertificateMode, clientCa: string | undefined): TlsOptions {
  if (mode === 'off') return {};
  if (clientCa === undefined) throw new RelayError('CONFIG_INVALID', 'tls.clientCaFile: required when client certificates are not off');
  return { requestCert: true, rejectUnauthorized: false, ca: clientCa };
}
