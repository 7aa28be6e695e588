import { connect, type Socket } from 'node:net';
import { RelayError } from '../common/relayError.js';
import { noProxyMatches } from './noProxy.js';
import { hostForUrl } from './relayEndpoint.js';

/** An HTTP proxy that tunnels connections to the relay with `CONNECT` (RFC 9110 §9.3.6). */
export interface HttpProxy {
  readonly host: string;
  readonly port: number;
  /** `Proxy-Authorization` value from the proxy URL's user part; never shown. */
  readonly authorization?: string;
  /** `http://host:port`, without the credential: safe to print. */
  readonly display: string;
  /** The variable it came from (`https_proxy` or `HTTPS_PROXY`). */
  readonly source: string;
}

/** Bound on the proxy's answer to `CONNECT` (status line and headers). */
const maxResponseHeadBytes = 16 * 1024;

function firstSet(env: NodeJS.ProcessEnv, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

function invalid(source: string, why: string): RelayError {
  return new RelayError('CONFIG_INVALID', `${source}: ${why}`);
}

/**
 * Parses a proxy URL: `http://[user[:password]@]host[:port]` (no scheme means
 * `http://`; the port defaults to 80). A proxy reached over TLS (`https://`) or SOCKS is
 * not supported. Messages never quote the URL (it may hold a password).
 */
export function parseProxyUrl(value: string, source: string): HttpProxy {
  const text = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(source, 'not a valid proxy URL (expected http://[user:password@]host[:port])');
  }
  if (url.protocol !== 'http:') throw invalid(source, `proxy scheme ${url.protocol.replace(':', '')}:// is not supported; use an http:// proxy (it tunnels TLS with CONNECT)`);
  if (url.hostname === '') throw invalid(source, 'the proxy URL has no host');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? 80 : Number(url.port);
  let authorization: string | undefined;
  if (url.username !== '' || url.password !== '') {
    let credentials: string;
    try {
      credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    } catch {
      throw invalid(source, "the proxy URL's user part is not valid percent-encoding");
    }
    authorization = `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
  }
  return { host, port, display: `http://${hostForUrl(host)}:${port}`, source, ...(authorization ? { authorization } : {}) };
}

/**
 * The proxy to reach the relay at `host:port` through, from the environment:
 * `https_proxy`, else `HTTPS_PROXY` (the relay is always reached over TLS, wss and tcps
 * alike), unless `no_proxy`/`NO_PROXY` matches the relay (see {@link noProxyMatches}).
 * Undefined: connect directly. `HTTP_PROXY` and `ALL_PROXY` are not used.
 */
export function proxyForRelay(host: string, port: number, env: NodeJS.ProcessEnv): HttpProxy | undefined {
  const proxy = firstSet(env, ['https_proxy', 'HTTPS_PROXY']);
  if (proxy === undefined) return undefined;
  const noProxy = firstSet(env, ['no_proxy', 'NO_PROXY']);
  if (noProxy !== undefined && noProxyMatches(noProxy.value, host, port)) return undefined;
  return parseProxyUrl(proxy.value, proxy.name);
}

/**
 * Opens a TCP connection to `proxy` and asks it for a tunnel to `host:port`
 * (`CONNECT host:port HTTP/1.1`, with `Proxy-Authorization` when the proxy URL has a
 * user part). Resolves with the socket once the proxy answered 2xx; the caller then
 * starts TLS to the relay on it. Rejects with `RELAY_UNREACHABLE` naming the proxy
 * (without its credential) and its status.
 */
export function openConnectTunnel(proxy: HttpProxy, host: string, port: number, timeoutMs: number): Promise<Socket> {
  const authority = `${hostForUrl(host)}:${port}`;
  const where = `the proxy ${proxy.display} (${proxy.source})`;
  return new Promise<Socket>((resolve, reject) => {
    const socket = connect({ host: proxy.host, port: proxy.port, noDelay: true });
    let head = Buffer.alloc(0);
    const fail = (message: string, cause?: unknown): void => {
      cleanup();
      socket.on('error', () => undefined);
      socket.destroy();
      reject(new RelayError('RELAY_UNREACHABLE', message, cause === undefined ? undefined : { cause }));
    };
    const onConnect = (): void => {
      const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
      if (proxy.authorization) lines.push(`Proxy-Authorization: ${proxy.authorization}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    };
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > maxResponseHeadBytes) fail(`${where} sent an over-long answer to CONNECT ${authority}`);
        return;
      }
      const statusLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
      if (status === undefined || !status.startsWith('2')) {
        const shown = statusLine.replace(/[^\x20-\x7e]/g, '?').slice(0, 120);
        const hint = status === '407' ? (proxy.authorization ? ' (the proxy refused its credentials)' : ' (the proxy wants credentials: http://user:password@host:port)') : '';
        fail(`${where} refused CONNECT ${authority}: ${shown || 'no HTTP status line'}${hint}`);
        return;
      }
      cleanup();
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest); // the relay spoke first (it never should before our ClientHello)
      resolve(socket);
    };
    const onError = (error: Error): void => fail(`cannot reach ${where}: ${error.message}`, error);
    const onClose = (): void => fail(`${where} closed the connection before answering CONNECT ${authority}`);
    const timer = setTimeout(() => fail(`${where} did not open a tunnel to ${authority} within ${timeoutMs} ms`), timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.pause();
    };
    socket.on('connect', onConnect);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}
