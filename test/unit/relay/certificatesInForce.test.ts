import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCa, createLeaf, loopbackNames, pemCertificates } from '../../../src/certs/certificateFactory.js';
import { certificateValidity } from '../../../src/certs/certificateValidity.js';
import { loadConfig } from '../../../src/config/loadConfig.js';
import { peerCertificates, reloadableCertificates } from '../../../src/relay/certificatesInForce.js';
import type { RelayHandle } from '../../../src/relay/relayServer.js';
import { makeCertificates, startTestRelay, type TestRelay } from '../../support/relay/relayFixture.js';

/**
 * `dbgrelay_certificate_expiry_timestamp_seconds` of a real relay whose certificates
 * node-forge made with known lifetimes, checked against Node's own reading of them.
 */
const gauge = 'dbgrelay_certificate_expiry_timestamp_seconds';
const dayS = 24 * 3600;
const relays: TestRelay[] = [];
afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.close();
});

interface Series {
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The series the gauge must hold for the certificates of `pem`, one `use` each in order, as Node's X.509 parser reads them. */
function expected(pem: string, ...uses: string[]): Series[] {
  return pemCertificates(pem).map((block, index) => {
    const certificate = new X509Certificate(block);
    return {
      labels: { use: uses[index]!, subject: certificate.subject.replaceAll('\n', ', '), fingerprint: `sha256:${certificate.fingerprint256.replaceAll(':', '').toLowerCase()}` },
      value: new Date(certificate.validTo).getTime() / 1000,
    };
  });
}

async function series(relay: RelayHandle): Promise<Series[]> {
  const { values } = await relay.metrics.registry.getSingleMetric(gauge)!.get();
  return values.map(({ labels, value }) => ({ labels: labels as Record<string, string>, value }));
}

/** Days from now to `series`' notAfter. */
function daysLeft(entry: Series | undefined): number {
  return (entry!.value - Date.now() / 1000) / dayS;
}

function writePem(dir: string, name: string, pem: string): string {
  const file = join(dir, name);
  writeFileSync(file, pem);
  return file;
}

describe('dbgrelay_certificate_expiry_timestamp_seconds', () => {
  it('shows every certificate the relay presents or trusts, by use, with its notAfter in seconds since the epoch', async () => {
    const certs = makeCertificates(); // a leaf of 825 days and its CA of 3650, in one chain file
    const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-expiry-'));
    const clientCa = createCa('client CA', 100);
    const targetCa = createCa('target CA', 200);
    // A JWT verification key given as the certificate that carries it.
    const jwtCertificate = createLeaf(createCa('jwt CA', 400), 'jwt signer', { client: true }, 300);
    const relay = await startTestRelay(certs, {
      tls: { certFile: certs.certFile, keyFile: certs.keyFile, clientCaFile: writePem(dir, 'client-ca.pem', clientCa.certPem) },
      targets: { api: { url: 'tcps://127.0.0.1:9', caFile: writePem(dir, 'target-ca.pem', targetCa.certPem) } },
      auth: {
        secret: 'test-secret-0123456789',
        jwt: { enabled: true, issuer: 'https://issuer.test', audience: 'dbgrelay', algorithms: ['RS256'], keyFile: writePem(dir, 'jwt.pem', jwtCertificate.certPem) },
      },
    });
    relays.push(relay);
    const got = await series(relay.relay);
    expect(got).toHaveLength(5);
    expect(got).toEqual(
      expect.arrayContaining([
        ...expected(readFileSync(certs.certFile, 'utf8'), 'server', 'server-chain'),
        ...expected(clientCa.certPem, 'client-ca'),
        ...expected(targetCa.certPem, 'target-ca'),
        ...expected(jwtCertificate.certPem, 'jwt'),
      ]),
    );
    const byUse = (use: string): Series | undefined => got.find((entry) => entry.labels['use'] === use);
    expect(daysLeft(byUse('server'))).toBeCloseTo(825, 1);
    expect(daysLeft(byUse('server-chain'))).toBeCloseTo(3650, 1);
    expect(daysLeft(byUse('client-ca'))).toBeCloseTo(100, 1);
    expect(daysLeft(byUse('target-ca'))).toBeCloseTo(200, 1);
    expect(daysLeft(byUse('jwt'))).toBeCloseTo(300, 1);
    expect(byUse('server')!.labels['fingerprint']).toBe(relay.relay.tls.leafFingerprint);
  });

  it('follows a reload: a renewed certificate replaces the old series', async () => {
    const certs = makeCertificates();
    const relay = await startTestRelay(certs);
    relays.push(relay);
    const before = (await series(relay.relay)).find((entry) => entry.labels['use'] === 'server')!;
    const ca = createCa('renewing CA', 50);
    const renewed = createLeaf(ca, 'localhost', { server: loopbackNames }, 7);
    writeFileSync(certs.certFile, renewed.certPem + ca.certPem);
    writeFileSync(certs.keyFile, renewed.keyPem);
    expect(relay.relay.reload(relay.relay.config).certificateChanged).toBe(true);
    const after = await series(relay.relay);
    expect(after).toEqual(expected(renewed.certPem + ca.certPem, 'server', 'server-chain'));
    expect(after.map((entry) => entry.labels['fingerprint'])).not.toContain(before.labels['fingerprint']);
    expect(daysLeft(after[0])).toBeCloseTo(7, 1);
  });

  it('reads the peer link certificates of several instances, and a JWK x5c in DER as its PEM', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-expiry-peer-'));
    const peerCa = createCa('peer CA', 60);
    const peer = createLeaf(peerCa, 'relay-a', { server: loopbackNames, client: true }, 30);
    const config = loadConfig({
      env: {},
      overrides: {
        dataDir: dir,
        cluster: {
          store: { url: 'redis://127.0.0.1:9' },
          peer: {
            certFile: writePem(dir, 'peer.pem', peer.certPem + peerCa.certPem),
            keyFile: writePem(dir, 'peer-key.pem', peer.keyPem),
            caFile: writePem(dir, 'peer-ca.pem', peerCa.certPem),
          },
        },
      },
    });
    expect(peerCertificates(config)).toEqual(
      [...expected(peer.certPem + peerCa.certPem, 'peer', 'peer-chain'), ...expected(peerCa.certPem, 'peer-ca')].map(({ labels, value }) => ({
        use: labels['use'],
        subject: labels['subject'],
        fingerprint: labels['fingerprint'],
        notAfterSeconds: value,
      })),
    );
    expect(peerCertificates(loadConfig({ env: {}, overrides: { dataDir: dir } }))).toEqual([]);
    const der = new X509Certificate(peer.certPem).raw;
    expect(certificateValidity(der)).toEqual(certificateValidity(peer.certPem));
  });

  it('reads the certificates of a JWKS file (x5c, base64 DER) as jwt, and shows nothing of a file it cannot read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-expiry-jwks-'));
    const signerCa = createCa('jwks CA', 90);
    const signer = createLeaf(signerCa, 'jwks signer', { client: true }, 45);
    const jwk = {
      ...new X509Certificate(signer.certPem).publicKey.export({ format: 'jwk' }),
      kid: 'k1',
      alg: 'RS256',
      use: 'sig',
      x5c: [signer.certPem, signerCa.certPem].map((pem) => new X509Certificate(pem).raw.toString('base64')),
    };
    const jwksFile = writePem(dir, 'jwks.json', JSON.stringify({ keys: [jwk] }));
    const jwt = { enabled: true, issuer: 'https://issuer.test', audience: 'dbgrelay', algorithms: ['RS256'], jwksFile };
    const tls = { cert: readFileSync(makeCertificates().certFile, 'utf8') };
    const config = loadConfig({ env: {}, overrides: { dataDir: dir, auth: { secret: 'test-secret-0123456789', jwt } } });
    const jwtSeries = reloadableCertificates(config, tls, undefined).filter((entry) => entry.use === 'jwt');
    expect(jwtSeries).toEqual([certificateValidity(signer.certPem), certificateValidity(signerCa.certPem)].map((validity) => ({ use: 'jwt', ...validity })));
    const missing = loadConfig({ env: {}, overrides: { dataDir: dir, targets: { api: { url: 'tcps://127.0.0.1:9', caFile: join(dir, 'gone.pem') } } } });
    expect(reloadableCertificates(missing, tls, undefined).map((entry) => entry.use)).toEqual(['server', 'server-chain']);
  });
});
