import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { connect as tlsConnect, createSecureContext, createServer as createTlsServer } from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  certificatesInFile,
  initCertificates,
  issueClientCertificate,
  issuePeerCertificate,
  parseSubjectAltNames,
  type InitializedCertificates,
} from '../../../src/certs/certificateFiles.js';
import { certificateFingerprint } from '../../../src/certs/certificateFactory.js';
import { isRelayError } from '../../../src/common/relayError.js';

const modeOf = (file: string): number => statSync(file).mode & 0o777;

function codeOf(run: () => unknown): string {
  try {
    run();
    return 'OK';
  } catch (error) {
    return isRelayError(error) ? error.code : String(error);
  }
}

describe('certs init and client', () => {
  let dir: string;
  let made: InitializedCertificates;

  beforeAll(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'dbgrelay-certs-test-')), 'tls');
    made = initCertificates(dir, parseSubjectAltNames(['relay.example.com', '10.0.0.5,::1']));
  });

  it('writes a CA and a server certificate with the SANs, keys 0600 and certificates 0644, in a 0700 directory', () => {
    expect(modeOf(dir)).toBe(0o700);
    expect(modeOf(made.caKeyFile)).toBe(0o600);
    expect(modeOf(made.keyFile)).toBe(0o600);
    expect(modeOf(made.caFile)).toBe(0o644);
    expect(modeOf(made.certFile)).toBe(0o644);
    const ca = new X509Certificate(readFileSync(made.caFile));
    const server = new X509Certificate(readFileSync(made.certFile));
    expect(ca.ca).toBe(true);
    expect(server.checkIssued(ca) && server.verify(ca.publicKey)).toBe(true);
    expect(server.checkHost('relay.example.com')).toBe('relay.example.com');
    expect(server.checkIP('10.0.0.5')).toBe('10.0.0.5');
    expect(server.checkIP('::1')).toBeDefined();
    expect(server.checkHost('localhost')).toBeUndefined();
    expect(made.caFingerprint).toBe(certificateFingerprint(readFileSync(made.caFile, 'utf8')));
    createSecureContext({ cert: readFileSync(made.certFile), key: readFileSync(made.keyFile) });
  });

  it('refuses to overwrite anything without --force, and replaces everything (keys still 0600) with it', () => {
    const before = readFileSync(made.caFile, 'utf8');
    expect(codeOf(() => initCertificates(dir, parseSubjectAltNames([])))).toBe('CONFIG_INVALID');
    expect(readFileSync(made.caFile, 'utf8')).toBe(before);
    const other = join(mkdtempSync(join(tmpdir(), 'dbgrelay-certs-force-')), 'tls');
    initCertificates(other, parseSubjectAltNames([]));
    writeFileSync(join(other, 'ca-key.pem'), 'old', { mode: 0o644 });
    const again = initCertificates(other, parseSubjectAltNames([]), { force: true });
    expect(modeOf(again.caKeyFile)).toBe(0o600);
    expect(readFileSync(again.caKeyFile, 'utf8')).toContain('PRIVATE KEY');
  });

  it('issues a client certificate for mTLS signed by the CA, key 0600, and refuses to overwrite it', () => {
    const client = issueClientCertificate(dir, 'alice');
    expect(client.certFile).toBe(join(dir, 'client-alice.pem'));
    expect(modeOf(client.keyFile)).toBe(0o600);
    expect(modeOf(client.certFile)).toBe(0o644);
    const cert = new X509Certificate(readFileSync(client.certFile));
    const ca = new X509Certificate(readFileSync(made.caFile));
    expect(cert.subject).toBe('CN=alice');
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.2'); // clientAuth
    expect(cert.keyUsage).not.toContain('1.3.6.1.5.5.7.3.1'); // not serverAuth
    expect(codeOf(() => issueClientCertificate(dir, 'alice'))).toBe('CONFIG_INVALID');
    expect(issueClientCertificate(dir, 'alice', { force: true }).fingerprint).not.toBe(client.fingerprint);
  });

  it('issues a peer certificate of a relay instance (serverAuth and clientAuth) that passes mutual TLS with another', async () => {
    const one = issuePeerCertificate(dir, 'relay-1');
    const two = issuePeerCertificate(dir, 'relay-2');
    expect(one.certFile).toBe(join(dir, 'peer-relay-1.pem'));
    expect(modeOf(one.keyFile)).toBe(0o600);
    const cert = new X509Certificate(readFileSync(one.certFile));
    expect(cert.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    expect(codeOf(() => issuePeerCertificate(dir, 'relay-1'))).toBe('CONFIG_INVALID');
    // relay-2 dials relay-1's peer listener as the cluster does: both ends present and verify
    const ca = readFileSync(made.caFile, 'utf8');
    const server = createTlsServer({ cert: readFileSync(one.certFile), key: readFileSync(one.keyFile), ca, requestCert: true, rejectUnauthorized: true }, (socket) =>
      socket.end('ok'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = tlsConnect({
          host: '127.0.0.1',
          port: (server.address() as AddressInfo).port,
          cert: readFileSync(two.certFile),
          key: readFileSync(two.keyFile),
          ca,
          checkServerIdentity: () => undefined,
        });
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(reply).toBe('ok');
    } finally {
      server.close();
    }
  });

  it('refuses bad client names and a directory without a CA', () => {
    expect(codeOf(() => issueClientCertificate(dir, '../evil'))).toBe('CONFIG_INVALID');
    expect(codeOf(() => issueClientCertificate(dir, 'a b'))).toBe('CONFIG_INVALID');
    expect(codeOf(() => issueClientCertificate(mkdtempSync(join(tmpdir(), 'dbgrelay-noca-')), 'bob'))).toBe('CONFIG_INVALID');
  });

  it('prints the fingerprints of a PEM file, first certificate first', () => {
    const chain = join(dir, 'chain.pem');
    writeFileSync(chain, readFileSync(made.certFile, 'utf8') + readFileSync(made.caFile, 'utf8'));
    const summaries = certificatesInFile(chain);
    expect(summaries.map((s) => s.fingerprint)).toEqual([made.serverFingerprint, made.caFingerprint]);
    expect(summaries[1]!.subject).toBe('CN=dbgrelay CA');
    expect(codeOf(() => certificatesInFile(made.keyFile))).toBe('CONFIG_INVALID');
  });
});

describe('parseSubjectAltNames', () => {
  it('defaults to the loopback names and sorts DNS names from IP addresses', () => {
    expect(parseSubjectAltNames([])).toEqual({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'] });
    expect(parseSubjectAltNames(['*.Example.com', '192.0.2.1'])).toEqual({ dnsNames: ['*.example.com'], ipAddresses: ['192.0.2.1'] });
  });

  it.each(['bad name', 'a..b', '-x.com', 'x_y.com'])('refuses %j', (value) => {
    expect(codeOf(() => parseSubjectAltNames([value]))).toBe('CONFIG_INVALID');
  });
});
