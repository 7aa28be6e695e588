import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { certificateFingerprint } from '../../../src/certs/certificateFactory.js';
import { loadConfig } from '../../../src/config/loadConfig.js';
import { startRelay, type ListenAddress } from '../../../src/relay/relayServer.js';
import { TcpsPeer } from '../../support/relay/relayPeers.js';

const logger = pino({ level: 'silent' });

function peerChain(address: ListenAddress): Promise<PeerCertificate[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.host, port: address.port, rejectUnauthorized: false }, () => {
      const chain: PeerCertificate[] = [];
      let cert = socket.getPeerCertificate(true) as PeerCertificate & { issuerCertificate?: PeerCertificate };
      while (cert && !chain.some((c) => c.fingerprint256 === cert.fingerprint256)) {
        chain.push(cert);
        cert = cert.issuerCertificate as typeof cert;
      }
      socket.destroy();
      resolve(chain);
    });
    socket.on('error', reject);
  });
}

const fingerprintOf = (cert: PeerCertificate): string => certificateFingerprint(cert.raw);

describe('startRelay on a fresh data directory', () => {
  it('creates the data dir 0700, a dev CA and server certificate, and a 0600 secret shown once', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'dbgrelay-fresh-')), 'state');
    const config = loadConfig({ env: {}, overrides: { dataDir, listeners: { wss: { port: 0 }, tcps: { port: 0 } }, log: { level: 'silent' } } });
    const shown: string[] = [];
    const relay = await startRelay(config, { logger, onSecretCreated: (secret) => shown.push(secret) });
    try {
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      for (const file of ['ca-key.pem', 'server-key.pem', 'secret']) expect(statSync(join(dataDir, file)).mode & 0o777).toBe(0o600);
      expect(shown).toEqual([readFileSync(join(dataDir, 'secret'), 'utf8').trim()]);
      expect(relay.secretFile).toBe(join(dataDir, 'secret'));
      const caFingerprint = certificateFingerprint(readFileSync(join(dataDir, 'ca.pem'), 'utf8'));
      expect(relay.tls).toMatchObject({ source: 'dev', created: true, caFingerprint });
      // Both listeners present leaf + CA, so the CA fingerprint can be pinned.
      for (const address of [relay.wssAddress!, relay.tcpsAddress!]) {
        const chain = await peerChain(address);
        expect(chain.map(fingerprintOf)).toContain(caFingerprint);
        expect(fingerprintOf(chain[0]!)).toBe(relay.tls.leafFingerprint);
      }
      // The server certificate is valid for 127.0.0.1 under the dev CA.
      const { reply } = await TcpsPeer.hello(relay.tcpsAddress!, readFileSync(join(dataDir, 'ca.pem'), 'utf8'), { op: 'targets', secret: shown[0] });
      expect(reply).toEqual({ ok: true, targets: [] });
    } finally {
      await relay.close();
    }
    const again = await startRelay(config, { logger, onSecretCreated: (secret) => shown.push(secret) });
    expect(shown).toHaveLength(1);
    expect(again.tls.created).toBe(false);
    await again.close();
  });

  it('stops listening on close()', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dbgrelay-close-'));
    const config = loadConfig({ env: {}, overrides: { dataDir, auth: { secret: 'close-test-secret' }, listeners: { wss: { port: 0 }, tcps: { port: 0 } } } });
    const relay = await startRelay(config, { logger });
    const port = relay.tcpsAddress!.port;
    await relay.close();
    await relay.close();
    const refused = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(false);
      });
      socket.on('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });

  it('bounds the tcps hello line and its time', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dbgrelay-hello-'));
    const config = loadConfig({
      env: {},
      overrides: { dataDir, auth: { secret: 'hello-test-secret' }, listeners: { wss: { enabled: false }, tcps: { port: 0 } }, limits: { handshakeTimeoutMs: 200 } },
    });
    const relay = await startRelay(config, { logger });
    try {
      const ca = readFileSync(join(dataDir, 'ca.pem'), 'utf8');
      expect(relay.wssAddress).toBeUndefined();
      const big = await TcpsPeer.connect(relay.tcpsAddress!, ca);
      big.socket.write('x'.repeat(9000));
      expect(await big.readLine()).toMatchObject({ ok: false, error: { code: 'MESSAGE_TOO_LARGE' } });
      const slow = await TcpsPeer.connect(relay.tcpsAddress!, ca);
      slow.socket.write('{"dbgrelay":1,');
      expect(await slow.readLine()).toMatchObject({ ok: false, error: { code: 'HANDSHAKE_TIMEOUT' } });
      const garbage = await TcpsPeer.connect(relay.tcpsAddress!, ca);
      garbage.socket.write('not json\n');
      expect(await garbage.readLine()).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    } finally {
      await relay.close();
    }
  });
});
