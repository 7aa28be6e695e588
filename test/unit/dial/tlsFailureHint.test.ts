import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRelayError } from '../../../src/common/relayError.js';
import { asEndpointError } from '../../../src/dial/directEndpointDialer.js';
import { connectVerifiedTls } from '../../../src/dial/tlsConnect.js';
import { classifyTlsFailure, nameMismatchHint, unknownCaHint } from '../../../src/dial/tlsFailureHint.js';
import { caTrust, systemTrust, type TlsTrust } from '../../../src/dial/tlsTrust.js';
import { testCertificates } from '../../support/keys/testCertificates.js';

interface HintVectors {
  readonly nameMismatch: readonly { readonly names: string[]; readonly host: string; readonly text: string }[];
  readonly unknownCa: readonly { readonly trust: string; readonly server: string; readonly ca: string | null; readonly text: string }[];
}

const vectors = JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/tlsFailureHintVectors.json'), 'utf8')) as HintVectors;

describe('the texts of tlsFailureHint (shared with the Python agent)', () => {
  it.each(vectors.nameMismatch)('names the fix for a name mismatch: $host', (vector) => {
    expect(nameMismatchHint(vector.names, vector.host)).toBe(vector.text);
  });

  it.each(vectors.unknownCa)('names the fix for an unknown CA: $trust', (vector) => {
    expect(unknownCaHint(vector.trust, vector.server, vector.ca ?? undefined)).toBe(vector.text);
  });

  it('sorts Node and OpenSSL codes', () => {
    expect(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH', 'IP_ADDRESS_MISMATCH'].map(classifyTlsFailure)).toEqual(Array(3).fill('name-mismatch'));
    expect(['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'].map(classifyTlsFailure)).toEqual(
      Array(4).fill('unknown-ca'),
    );
    expect(classifyTlsFailure('CERT_HAS_EXPIRED')).toBe('other');
  });
});

describe('connectVerifiedTls names the fix when the relay certificate does not verify', () => {
  // The relay listens on a second loopback address its certificate (localhost, 127.0.0.1, ::1) does not name.
  let server: Server;
  let port: number;
  const certs = testCertificates();

  beforeAll(async () => {
    server = createServer({ cert: certs.chainPem, key: certs.keyPem }, (socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const failure = async (host: string, trust: TlsTrust): Promise<Error> => {
    const error = await connectVerifiedTls({ host, port }, trust, 5_000).then(
      (socket) => {
        socket.destroy();
        return new Error('connected');
      },
      (caught: unknown) => caught as Error,
    );
    expect(isRelayError(error, 'TLS_VERIFY_FAILED'), error.message).toBe(true);
    return error;
  };

  it('a name the certificate does not cover: the names it covers and --public-name', async () => {
    const error = await failure('127.0.0.2', caTrust(certs.caPem, certs.caFile));
    expect(error.message).toBe(`cannot verify the relay's certificate at 127.0.0.2:${port}: ${nameMismatchHint(['localhost', '127.0.0.1', '::1'], '127.0.0.2')}`);
  });

  it('a CA file that did not sign it: the file and the fingerprints the relay presented', async () => {
    const other = testCertificates('other');
    const error = await failure('127.0.0.2', caTrust(other.caPem, other.caFile));
    expect(error.message).toBe(
      `cannot verify the relay's certificate at 127.0.0.2:${port}: ${unknownCaHint(`CA file ${other.caFile}`, certs.leafFingerprint, certs.caFingerprint)}`,
    );
  });

  it('a direct debug endpoint: the fix is its certfile, and no word says relay', async () => {
    const wrongName = asEndpointError(await failure('127.0.0.2', caTrust(certs.caPem, certs.caFile))) as Error;
    expect(wrongName.message).toBe(
      `cannot verify the debug endpoint's certificate at 127.0.0.2:${port}: the debug endpoint's certificate covers localhost, 127.0.0.1, ::1, you dialed 127.0.0.2; ` +
        'give enable_attach a certificate (certfile) that covers 127.0.0.2, or dial a name it covers',
    );
    const other = testCertificates('other');
    const wrongCa = asEndpointError(await failure('127.0.0.2', caTrust(other.caPem, other.caFile))) as Error;
    expect(wrongCa.message).toContain(`pin it with --fingerprint ${certs.caFingerprint} or pass the CA that signed it with --ca`);
    expect(`${wrongName.message} ${wrongCa.message}`).not.toMatch(/\brelay\b/);
  });

  it('the system trust store: says so, with the same fingerprints', async () => {
    const error = await failure('127.0.0.2', systemTrust);
    expect(error.message).toContain(unknownCaHint('system trust store', certs.leafFingerprint, certs.caFingerprint));
  });
});
