import type { TlsMaterial } from '../relay/tlsMaterial.js';

/**
 * What `dbgrelay serve` says about the names its certificate covers: the names, whether
 * the development certificate was made again for `tls.publicNames`, and each public
 * name a configured `tls.certFile` does not cover (agents and clients dialing it fail).
 */
export function certificateNamesLines(tls: Pick<TlsMaterial, 'names' | 'source' | 'remade'>, publicNames: readonly string[]): string[] {
  const lines = [`dbgrelay: certificate covers ${tls.names.join(', ') || '(no subjectAltName)'}${tls.remade ? ' (made again for the public names, same CA)' : ''}`];
  if (tls.source === 'files') {
    const covered = new Set(tls.names.map((name) => name.toLowerCase()));
    const missing = publicNames.filter((name) => !covered.has(name.toLowerCase()));
    if (missing.length > 0) lines.push(`dbgrelay: warning: tls.certFile does not cover the public name(s) ${missing.join(', ')}; agents and clients dialing them will fail`);
  }
  return lines;
}
