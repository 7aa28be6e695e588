import type { X509Certificate } from 'node:crypto';
import { isIP, type Socket } from 'node:net';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { isRelayError, RelayError } from '../common/relayError.js';
import { tlsPolicy } from '../common/tlsPolicy.js';
import type { ClientIdentity } from './clientIdentity.js';
import { openConnectTunnel, type HttpProxy } from './httpsProxy.js';
import { hostForUrl } from './relayEndpoint.js';
import { tlsFailureMessage, type TlsFailure } from './tlsFailureHint.js';
import { checkPinnedChain, describeTrust, peerCertificateChain, type TlsTrust } from './tlsTrust.js';

/** Where to connect: a host name or IP address and a port. */
export interface TlsAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * OpenSSL and Node codes that mean "certificate not trusted", as opposed to "not
 * reachable" (Node's X509 verify codes, e.g. `INVALID_PURPOSE` for a client
 * certificate presented as a server's, and TLS alerts about certificates).
 */
const verifyErrorPattern = /CERT|SELF_SIGNED|ISSUER|VERIFY|ALTNAME|PURPOSE|INVALID_CA|PATH_LENGTH|CRL|HOSTNAME|UNTRUSTED|REJECTED/;

/** `host:port` for messages (never carries a credential). */
export function formatAddress(address: TlsAddress): string {
  return `${hostForUrl(address.host)}:${address.port}`;
}

/**
 * Opens a TLS 1.2+ connection to the relay and resolves only once its certificate
 * is verified, so no byte of ours (a secret in a header or hello line) is written
 * before the peer is known. `ca`/`system` trust is checked by OpenSSL (chain and host
 * name), and a refusal names its fix (`tlsFailureHint`: the names the certificate
 * covers, or the fingerprints the relay presented); a pin is checked with
 * {@link checkPinnedChain} on the presented chain.
 * SNI is sent when `host` is a name; `TCP_NODELAY` is on. With `identity`, the client
 * certificate is offered when the relay asks for one (mTLS). With `proxy`, the TCP
 * connection is a `CONNECT` tunnel through that HTTP proxy (see `proxyForRelay`); TLS
 * and its verification are end to end with the relay, as without it.
 *
 * Rejects with `TLS_PIN_MISMATCH`, `TLS_VERIFY_FAILED` or `RELAY_UNREACHABLE`
 * (which also covers `timeoutMs` running out).
 */
export async function connectVerifiedTls(address: TlsAddress, trust: TlsTrust, timeoutMs: number, identity?: ClientIdentity, proxy?: HttpProxy): Promise<TLSSocket> {
  const startedAt = Date.now();
  const tunnel = proxy ? await openConnectTunnel(proxy, address.host, address.port, timeoutMs) : undefined;
  return startVerifiedTls(address, trust, Math.max(1, timeoutMs - (Date.now() - startedAt)), identity, tunnel);
}

/**
 * `TLS_VERIFY_FAILED` for a chain OpenSSL or the name check refused (`code`, Node's
 * `authorizationError`): with the fix named when the name does not match or the CA is
 * unknown (`tlsFailureHint`), else with the code and where to give the relay's CA.
 */
function verifyFailure(where: string, host: string, code: string, chain: readonly X509Certificate[], trust: TlsTrust): RelayError {
  const failure: TlsFailure = { where, code, host, chain, trust: describeTrust(trust) };
  const otherwise = `cannot verify the relay's certificate at ${where}: ${trust.kind === 'system' ? `${code}; pass the relay CA with --ca FILE or pin it with --fingerprint sha256:...` : code}`;
  // The facts stay as the cause, so that a direct endpoint's dialer can word the fix for itself (tlsFailureMessage).
  return new RelayError('TLS_VERIFY_FAILED', tlsFailureMessage(failure) ?? otherwise, { cause: failure });
}

function startVerifiedTls(address: TlsAddress, trust: TlsTrust, timeoutMs: number, identity: ClientIdentity | undefined, tunnel: Socket | undefined): Promise<TLSSocket> {
  const where = formatAddress(address);
  const options: ConnectionOptions = {
    ...(tunnel ? { socket: tunnel } : {}),
    host: address.host,
    port: address.port,
    ...tlsPolicy, // offer only ECDHE+AEAD suites; refuse a renegotiation the relay asks for
    // Verified in onSecure below, with the presented chain at hand for a message that names the fix; nothing is written before.
    rejectUnauthorized: false,
    ...(isIP(address.host) === 0 ? { servername: address.host } : {}),
    ...(trust.kind === 'ca' ? { ca: trust.caPem } : {}),
    ...(identity ? { cert: identity.certPem, key: identity.keyPem } : {}),
  };
  return new Promise<TLSSocket>((resolve, reject) => {
    const socket = connect(options);
    socket.setNoDelay(true);
    let tcpConnected = tunnel !== undefined;
    const fail = (error: RelayError): void => {
      cleanup();
      socket.on('error', () => undefined); // late errors of a socket we gave up on
      socket.destroy();
      reject(error);
    };
    const onConnect = (): void => {
      tcpConnected = true;
    };
    const onError = (error: NodeJS.ErrnoException): void => {
      const code = error.code ?? '';
      // Node sets authorizationError when it refuses the peer's certificate (chain, purpose or name) and then destroys the socket with that error.
      if (tcpConnected && (Boolean(socket.authorizationError) || verifyErrorPattern.test(code))) {
        const hint = trust.kind === 'system' ? '; pass the relay CA with --ca FILE or pin it with --fingerprint sha256:...' : '';
        fail(new RelayError('TLS_VERIFY_FAILED', `cannot verify the relay's certificate at ${where}: ${error.message}${hint}`, { cause: error }));
      } else {
        fail(new RelayError('RELAY_UNREACHABLE', `cannot reach the relay at ${where}: ${error.message}`, { cause: error }));
      }
    };
    const onClose = (): void => fail(new RelayError('RELAY_UNREACHABLE', `the relay at ${where} closed the connection during the TLS handshake`));
    const onSecure = (): void => {
      if (trust.kind !== 'pin' && !socket.authorized) {
        fail(verifyFailure(where, address.host, String(socket.authorizationError), peerCertificateChain(socket), trust));
        return;
      }
      if (trust.kind === 'pin') {
        try {
          checkPinnedChain(peerCertificateChain(socket), address.host, trust.fingerprints);
        } catch (error) {
          fail(isRelayError(error) ? error : new RelayError('TLS_VERIFY_FAILED', `cannot verify the relay's certificate at ${where}: ${(error as Error).message}`));
          return;
        }
      }
      cleanup();
      resolve(socket);
    };
    const timer = setTimeout(() => fail(new RelayError('RELAY_UNREACHABLE', `the relay at ${where} did not complete a TLS handshake within ${timeoutMs} ms`)), timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.off('secureConnect', onSecure);
    };
    socket.on('connect', onConnect);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.on('secureConnect', onSecure);
  });
}
