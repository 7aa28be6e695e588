import { dirname, join } from 'node:path';
import { connect, type ConnectionOptions } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCertificates } from '../support/keys/testCertificates.js';
import { startDebuggee, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';

/**
 * What each TLS listener offers (issue 16): the relay's wss and tcps listeners (also
 * after a reload, which rebuilds their secure context) and the Python agent's direct
 * endpoint. TLS 1.2 with ECDHE and an AEAD cipher only; no RSA key exchange, DHE, CBC
 * or SHA-1 MAC; TLS 1.3 as is; renegotiation refused. All certificates here are RSA,
 * so the RSA key exchange suites would be usable if they were offered.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ptvsdApp = join(root, 'test', 'fixtures', 'apps', 'ptvsdApp.py');

/** TLS 1.2 suites a client asks for, one at a time, and whether the listener must take it. */
const expectedTls12: Readonly<Record<string, boolean>> = {
  'ECDHE-RSA-AES128-GCM-SHA256': true,
  'ECDHE-RSA-AES256-GCM-SHA384': true,
  'ECDHE-RSA-CHACHA20-POLY1305': true,
  'AES128-SHA': false, // RSA key exchange, CBC, SHA-1
  'AES256-GCM-SHA384': false, // RSA key exchange
  'AES128-SHA256': false, // RSA key exchange, CBC
  'ECDHE-RSA-AES128-SHA': false, // CBC, SHA-1
  'ECDHE-RSA-AES256-SHA384': false, // CBC
  'DHE-RSA-AES128-GCM-SHA256': false, // finite-field DH
  'DHE-RSA-AES256-SHA': false,
};

/** What a listener offered: every suite above, TLS 1.3, and a renegotiation attempt. */
interface Offer {
  readonly tls12: Record<string, boolean>;
  readonly tls13: string | undefined;
  readonly renegotiation: string;
}

const expectedOffer: Offer = { tls12: { ...expectedTls12 }, tls13: 'TLSv1.3', renegotiation: 'ERR_SSL_NO_RENEGOTIATION' };

/** Resolves with the negotiated protocol, or undefined when the handshake failed. */
function handshake(port: number, options: ConnectionOptions): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
    const timer = setTimeout(() => finish(undefined), 5_000);
    const finish = (protocol: string | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(protocol);
    };
    socket.once('secureConnect', () => finish(socket.getProtocol() ?? undefined));
    socket.once('error', () => finish(undefined));
  });
}

/** A TLS 1.2 connection that asks to renegotiate at once: the error code, or `renegotiated`. */
function renegotiate(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
    const timer = setTimeout(() => finish('no answer'), 5_000);
    const finish = (outcome: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    socket.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    socket.on('close', () => finish('closed'));
    socket.resume(); // read, so that the peer's answer is seen
    socket.once('secureConnect', () => {
      socket.renegotiate({}, (error) => finish(error ? ((error as NodeJS.ErrnoException).code ?? error.message) : 'renegotiated'));
    });
  });
}

async function offerOf(port: number): Promise<Offer> {
  const tls12: Record<string, boolean> = {};
  for (const suite of Object.keys(expectedTls12)) {
    tls12[suite] = (await handshake(port, { ciphers: suite, maxVersion: 'TLSv1.2' })) === 'TLSv1.2';
  }
  return { tls12, tls13: await handshake(port, { minVersion: 'TLSv1.3' }), renegotiation: await renegotiate(port) };
}

let relay: E2eRelay;
let app: Debuggee;
let directPort: number;

beforeAll(async () => {
  const certs = testCertificates('tls-suites');
  app = startDebuggee({
    relayUrl: '',
    name: '',
    secret: undefined,
    pythonArgs: [],
    script: ptvsdApp,
    scriptArgs: [certs.certFile, certs.keyFile],
    env: { PYDEVD_DISABLE_FILE_VALIDATION: '1' },
  });
  relay = await startE2eRelay();
  directPort = Number((await app.waitForOutput(/endpoint 127\.0\.0\.1:\d+/, 20_000)).split(':')[1]);
}, 60_000);

afterAll(async () => {
  app?.kill();
  await relay?.stop();
});

describe('the suites each TLS listener offers', () => {
  it('relay wss: ECDHE with AEAD only, TLS 1.3, no renegotiation', async () => {
    expect(await offerOf(relay.handle.wssAddress!.port)).toEqual(expectedOffer);
  });

  it('relay tcps: ECDHE with AEAD only, TLS 1.3, no renegotiation', async () => {
    expect(await offerOf(relay.handle.tcpsAddress!.port)).toEqual(expectedOffer);
  });

  it('agent direct endpoint: ECDHE with AEAD only, TLS 1.3, no renegotiation', async () => {
    expect(await offerOf(directPort)).toEqual(expectedOffer);
  });

  it('relay listeners after a reload (a new secure context): the same', async () => {
    relay.handle.reload(relay.handle.config);
    expect(await offerOf(relay.handle.wssAddress!.port)).toEqual(expectedOffer);
    expect(await offerOf(relay.handle.tcpsAddress!.port)).toEqual(expectedOffer);
  });
});
