import { createServer, type Server, type TlsOptions } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectVerifiedTls } from '../../../src/dial/tlsConnect.js';
import { caTrust } from '../../../src/dial/tlsTrust.js';
import { testCertificates } from '../../support/keys/testCertificates.js';

/**
 * The client offers the relay's TLS policy (src/common/tlsPolicy.ts): a server that
 * only has a weak TLS 1.2 suite gets no connection, one with an ECDHE+AEAD suite does.
 */
const servers: Server[] = [];

async function serve(options: TlsOptions): Promise<{ port: number; errors: string[] }> {
  const certs = testCertificates();
  const errors: string[] = [];
  const server = createServer({ cert: certs.chainPem, key: certs.keyPem, maxVersion: 'TLSv1.2', ...options }, (socket) => socket.end());
  server.on('tlsClientError', (error: Error) => errors.push(error.message));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, errors };
}

afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

const trust = () => caTrust(testCertificates().caPem, 'test CA');

describe('connectVerifiedTls offers ECDHE with AEAD only', () => {
  it.each(['AES128-SHA', 'AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA384'])('refuses a relay that only has %s', async (suite) => {
    const { port, errors } = await serve({ ciphers: suite });
    await expect(connectVerifiedTls({ host: '127.0.0.1', port }, trust(), 3_000)).rejects.toThrow();
    expect(errors.join(' ')).toMatch(/no shared cipher/);
  });

  it.each(['ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305'])('connects to a relay that only has %s', async (suite) => {
    const { port } = await serve({ ciphers: suite });
    const socket = await connectVerifiedTls({ host: '127.0.0.1', port }, trust(), 3_000);
    expect(socket.getCipher().standardName).toMatch(/^TLS_ECDHE_RSA_WITH_/);
    socket.destroy();
  });
});
