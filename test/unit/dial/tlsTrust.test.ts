import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateFingerprint, createCa, createLeaf, type CertificateAndKey } from '../../../src/certs/certificateFactory.js';
import { isRelayError } from '../../../src/common/relayError.js';
import { dialSession } from '../../../src/dial/relayDialer.js';
import { parseRelayEndpoint } from '../../../src/dial/relayEndpoint.js';
import { connectVerifiedTls } from '../../../src/dial/tlsConnect.js';
import { caTrust, checkPinnedChain, pinTrust, systemTrust, type TlsTrust } from '../../../src/dial/tlsTrust.js';
import { testCertificates, type TestCertificates } from '../../support/keys/testCertificates.js';

let certs: TestCertificates;
let other: TestCertificates;
const servers: Server[] = [];

/** Bytes each test server received from clients: a refused peer must get none (no secret). */
const received: Buffer[] = [];

async function tlsServer(cert: string, key: string): Promise<number> {
  const server = createServer({ cert, key }, (socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    // Hold the connection open a moment, so a client that would send something gets the chance.
    setTimeout(() => socket.end(), 200);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function connectError(port: number, trust: TlsTrust, host = '127.0.0.1'): Promise<Error> {
  try {
    const socket = await connectVerifiedTls({ host, port }, trust, 5000);
    socket.destroy();
  } catch (error) {
    return error as Error;
  }
  throw new Error('connection was accepted');
}

let fullChainPort: number;
let leafOnlyPort: number;
/** A CA and a clientAuth-only certificate it signed (as `dbgrelay certs client` makes), named "localhost" so only its purpose is wrong. */
let clientCa: CertificateAndKey;
let clientLeaf: CertificateAndKey;
let clientCertPort: number;

beforeAll(async () => {
  certs = testCertificates();
  other = testCertificates('other');
  fullChainPort = await tlsServer(certs.chainPem, certs.keyPem);
  leafOnlyPort = await tlsServer(certs.certPem, certs.keyPem);
  clientCa = createCa('dbgrelay test CA (client certificates)');
  clientLeaf = createLeaf(clientCa, 'localhost', { client: true });
  clientCertPort = await tlsServer(`${clientLeaf.certPem.trimEnd()}\n${clientCa.certPem}`, clientLeaf.keyPem);
});

afterAll(async () => {
  for (const server of servers) server.close();
});

describe('connectVerifiedTls', () => {
  it('accepts a pin on the server certificate', async () => {
    const socket = await connectVerifiedTls({ host: '127.0.0.1', port: fullChainPort }, pinTrust(certs.leafFingerprint), 5000);
    expect(socket.getProtocol()).toMatch(/^TLSv1\.[23]$/);
    socket.destroy();
  });

  it('accepts a pin on the CA the relay sends after its leaf, and checks the host name', async () => {
    const socket = await connectVerifiedTls({ host: 'localhost', port: fullChainPort }, pinTrust(certs.caFingerprint.toUpperCase()), 5000);
    socket.destroy();
  });

  it('refuses a pin that matches nothing, showing the offered fingerprints', async () => {
    const error = await connectError(fullChainPort, pinTrust(other.caFingerprint));
    expect(isRelayError(error, 'TLS_PIN_MISMATCH')).toBe(true);
    expect(error.message).toContain(certs.leafFingerprint);
    expect(error.message).toContain(certs.caFingerprint);
    expect(error.message).toContain(other.caFingerprint);
    // Both roles are named: what was expected (the pin) and what the relay offered, by position.
    expect(error.message).toContain(`expected (pinned) ${other.caFingerprint}`);
    expect(error.message).toMatch(new RegExp(`offered by the relay: server ${certs.leafFingerprint} .*; issuer ${certs.caFingerprint}`));
  });

  it('cannot match a CA pin when the relay sends only its leaf', async () => {
    const error = await connectError(leafOnlyPort, pinTrust(certs.caFingerprint));
    expect(isRelayError(error, 'TLS_PIN_MISMATCH')).toBe(true);
    expect(error.message).toContain(certs.leafFingerprint);
  });

  it('verifies against a CA file, including the host name', async () => {
    const socket = await connectVerifiedTls({ host: '127.0.0.1', port: leafOnlyPort }, caTrust(certs.caPem, 'ca.pem'), 5000);
    socket.destroy();
    const wrongCa = await connectError(fullChainPort, caTrust(other.caPem, 'other.pem'));
    expect(isRelayError(wrongCa, 'TLS_VERIFY_FAILED')).toBe(true);
  });

  it('refuses a self-signed chain with the system trust store and suggests --ca/--fingerprint', async () => {
    const error = await connectError(fullChainPort, systemTrust);
    expect(isRelayError(error, 'TLS_VERIFY_FAILED')).toBe(true);
    expect(error.message).toContain('--fingerprint');
  });

  it('refuses a clientAuth-only certificate under a pinned CA, a pinned leaf and a CA file alike, with TLS_VERIFY_FAILED', async () => {
    received.length = 0;
    const trusts: TlsTrust[] = [
      pinTrust(certificateFingerprint(clientCa.certPem)),
      pinTrust(certificateFingerprint(clientLeaf.certPem)),
      caTrust(clientCa.certPem, 'client-ca.pem'),
    ];
    for (const trust of trusts) {
      const error = await connectError(clientCertPort, trust, 'localhost');
      expect(isRelayError(error, 'TLS_VERIFY_FAILED'), `${trust.kind}: ${(error as { code?: string }).code} ${error.message}`).toBe(true);
      if (trust.kind === 'pin') expect(error.message).toMatch(/extendedKeyUsage \(clientAuth\) lacks serverAuth/);
    }
    expect(Buffer.concat(received).length).toBe(0);
  });

  it('sends no secret to a relay that presents a client certificate signed by the pinned CA', async () => {
    received.length = 0;
    const endpoint = parseRelayEndpoint(`tcps://localhost:${clientCertPort}`);
    const dial = dialSession({ endpoint, trust: pinTrust(certificateFingerprint(clientCa.certPem)), target: 'web', secret: 'pinned-path-secret', timeoutMs: 5000 });
    await expect(dial).rejects.toSatisfy((e) => isRelayError(e, 'TLS_VERIFY_FAILED'));
    expect(Buffer.concat(received).toString('latin1')).not.toContain('pinned-path-secret');
    expect(Buffer.concat(received).length).toBe(0);
  });

  it('reports a closed port as RELAY_UNREACHABLE with host:port', async () => {
    const probe = createNetServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    probe.close();
    await once(probe, 'close');
    const error = await connectError(port, systemTrust);
    expect(isRelayError(error, 'RELAY_UNREACHABLE')).toBe(true);
    expect(error.message).toContain(`127.0.0.1:${port}`);
  });
});

describe('checkPinnedChain', () => {
  it('requires the leaf to name the host when the pin is on the CA', () => {
    const chain = [new X509Certificate(certs.certPem), new X509Certificate(certs.caPem)];
    expect(() => checkPinnedChain(chain, 'localhost', [certs.caFingerprint])).not.toThrow();
    expect(() => checkPinnedChain(chain, '::1', [certs.caFingerprint])).not.toThrow();
    const error = (() => {
      try {
        checkPinnedChain(chain, 'evil.example.com', [certs.caFingerprint]);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error && isRelayError(error, 'TLS_VERIFY_FAILED')).toBe(true);
  });

  it('checks the name as a CA file does, and allows a leaf with no extendedKeyUsage', () => {
    const chain = [new X509Certificate(certs.certPem), new X509Certificate(certs.caPem)];
    // tls.checkServerIdentity: an IP host must be an IP SAN; a DNS name is not matched against IP SANs.
    expect(() => checkPinnedChain(chain, '127.0.0.2', [certs.caFingerprint])).toThrow(
      "covers localhost, 127.0.0.1, ::1, you dialed 127.0.0.2; make the relay's certificate cover 127.0.0.2: start it with --public-name 127.0.0.2",
    );
    expect(() => checkPinnedChain(chain, 'sub.localhost', [certs.caFingerprint])).toThrow(/you dialed sub\.localhost/);
    // A CA certificate has no extendedKeyUsage: any purpose (a self-signed relay certificate pinned as itself).
    expect(() => checkPinnedChain([new X509Certificate(certs.caPem)], 'anything', [certs.caFingerprint])).not.toThrow();
  });

  it('refuses a leaf that the pinned CA did not sign', () => {
    const forged = [new X509Certificate(other.certPem), new X509Certificate(certs.caPem)];
    expect(() => checkPinnedChain(forged, 'localhost', [certs.caFingerprint])).toThrow(/chain is broken/);
  });

  it('refuses certificates outside their validity period', () => {
    const chain = [new X509Certificate(certs.certPem), new X509Certificate(certs.caPem)];
    expect(() => checkPinnedChain(chain, 'localhost', [certs.leafFingerprint], new Date(Date.now() + 3000 * 24 * 3600_000))).toThrow(/not valid now/);
  });
});

describe('pinTrust', () => {
  it('normalizes pins and refuses malformed ones', () => {
    const colons = certs.leafFingerprint.slice(7).match(/../g)!.join(':').toUpperCase();
    expect(pinTrust(`sha256:${colons}`)).toEqual({ kind: 'pin', fingerprints: [certs.leafFingerprint] });
    expect(() => pinTrust('sha1:abcd')).toThrow(/not a fingerprint/);
    expect(() => caTrust('not a pem', 'x.pem')).toThrow(/no PEM certificate/);
  });
});
