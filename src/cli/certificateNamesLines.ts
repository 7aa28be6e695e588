import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { TlsMaterial } from '../relay/tlsMaterial.js';

/** True when `leaf` covers `name` the way a TLS client checks it (wildcards, any IPv6 spelling). */
function covers(leaf: X509Certificate, name: string): boolean {
  return isIP(name) !== 0 ? leaf.checkIP(name) !== undefined : leaf.checkHost(name) !== undefined;
}

/**
 * What `dbgrelay serve` says about the names its certificate covers: the names, whether
 * the development certificate was made again for `tls.publicNames`, and each public
 * name a configured `tls.certFile` does not cover (agents and clients dialing it fail).
 */
export function certificateNamesLines(tls: Pick<TlsMaterial, 'cert' | 'names' | 'source' | 'remade'>, publicNames: readonly string[]): string[] {
  const lines = [`dbgrelay: certificate covers ${tls.names.join(', ') || '(no subjectAltName)'}${tls.remade ? ' (made again for the public names, same CA)' : ''}`];
  if (tls.source === 'files') {
    const leaf = new X509Certificate(tls.cert);
    const missing = publicNames.filter((name) => !covers(leaf, name));
    if (missing.length > 0) lines.push(`dbgrelay: warning: tls.certFile does not cover the public name(s) ${missing.join(', ')}; agents and clients dialing them will fail`);
  }
  return lines;
}
