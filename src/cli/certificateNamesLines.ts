import { type PeerCertificate, checkServerIdentity } from 'node:tls';
import { isIP } from 'node:net';
import type { TlsMaterial } from '../relay/tlsMaterial.js';

/**
 * True when a certificate listing `names` covers `name` by the check TLS clients make
 * (Node's `checkServerIdentity`, RFC 6125: a `*.` wildcard covers one label, an IP
 * address in any spelling).
 */
function covers(names: readonly string[], name: string): boolean {
  const subjectaltname = names.map((entry) => (isIP(entry) !== 0 ? `IP Address:${entry}` : `DNS:${entry}`)).join(', ');
  return checkServerIdentity(name, { subject: {}, subjectaltname } as PeerCertificate) === undefined;
}

/**
 * What `dbgrelay serve` says about the names its certificate covers: the names, whether
 * the development certificate was made again for `tls.publicNames`, and each public
 * name a configured `tls.certFile` does not cover (agents and clients dialing it fail).
 */
export function certificateNamesLines(tls: Pick<TlsMaterial, 'names' | 'source' | 'remade'>, publicNames: readonly string[]): string[] {
  const lines = [`dbgrelay: certificate covers ${tls.names.join(', ') || '(no subjectAltName)'}${tls.remade ? ' (made again for the public names, same CA)' : ''}`];
  if (tls.source === 'files') {
    const missing = publicNames.filter((name) => !covers(tls.names, name));
    if (missing.length > 0) lines.push(`dbgrelay: warning: tls.certFile does not cover the public name(s) ${missing.join(', ')}; agents and clients dialing them will fail`);
  }
  return lines;
}
