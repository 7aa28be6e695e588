import { lookup } from 'node:dns/promises';
import { connect, isIP } from 'node:net';
import { proxyForRelay, type HttpProxy } from '../dial/httpsProxy.js';
import { hostForUrl, type RelayEndpoint } from '../dial/relayEndpoint.js';
import { isRelayError } from '../common/relayError.js';
import { checkResult, type DoctorCheckResult } from './doctorCheck.js';

/** The proxy the relay is reached through (`HTTPS_PROXY`, unless `NO_PROXY` matches), and the check that says so. */
export function checkProxy(endpoint: RelayEndpoint, env: NodeJS.ProcessEnv): { result: DoctorCheckResult; proxy?: HttpProxy } {
  try {
    const proxy = proxyForRelay(endpoint.host, endpoint.port, env);
    if (proxy === undefined) return { result: checkResult('proxy', 'ok', 'no proxy: the relay is dialed directly (HTTPS_PROXY unset, or NO_PROXY matches)') };
    return {
      result: checkResult('proxy', 'ok', `through the proxy ${proxy.display} (${proxy.source}; NO_PROXY does not match ${endpoint.host})`, {
        details: { proxy: proxy.display, source: proxy.source },
      }),
      proxy,
    };
  } catch (error) {
    const message = (error as Error).message;
    return {
      result: checkResult('proxy', 'fail', message, {
        code: isRelayError(error) ? error.code : 'CONFIG_INVALID',
        fix: 'correct HTTPS_PROXY (http://host:port), or add the relay to NO_PROXY',
      }),
    };
  }
}

/** Resolves the host the TCP connection goes to (the relay's, or the proxy's). */
export async function checkDns(host: string, viaProxy: boolean): Promise<DoctorCheckResult> {
  if (isIP(host) !== 0) return checkResult('dns', 'ok', `${host} is an address: nothing to resolve`);
  const startedAt = performance.now();
  try {
    const addresses = await lookup(host, { all: true });
    const ms = Math.round(performance.now() - startedAt);
    return checkResult('dns', 'ok', `${host} resolves to ${addresses.map((a) => a.address).join(', ')} in ${ms} ms`, {
      details: { host, addresses: addresses.map((a) => a.address), ms },
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return checkResult('dns', 'fail', `${host} does not resolve (${code})`, {
      code: 'RELAY_UNREACHABLE',
      fix: viaProxy ? 'the proxy name does not resolve: correct HTTPS_PROXY' : "check the relay URL's host name, and this host's DNS resolver (/etc/resolv.conf)",
    });
  }
}

/** Opens (and closes) a TCP connection to `host:port` within `timeoutMs`, timed. */
export function checkTcp(host: string, port: number, timeoutMs: number, what: string): Promise<DoctorCheckResult> {
  const where = `${hostForUrl(host)}:${port}`;
  const startedAt = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: DoctorCheckResult): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () =>
        done(
          checkResult('tcp', 'fail', `no answer from ${what} ${where} within ${timeoutMs} ms`, {
            code: 'RELAY_UNREACHABLE',
            fix: 'a firewall drops the packets, or the host is down: check the port is open from this host',
          }),
        ),
      timeoutMs,
    );
    socket.once('connect', () => {
      const ms = Math.round(performance.now() - startedAt);
      done(checkResult('tcp', 'ok', `${what} ${where} accepts TCP connections (connected in ${ms} ms)`, { details: { address: socket.remoteAddress, port, ms } }));
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const refused = error.code === 'ECONNREFUSED';
      done(
        checkResult('tcp', 'fail', `cannot connect to ${what} ${where}: ${error.code ?? error.message}`, {
          code: 'RELAY_UNREACHABLE',
          fix: refused
            ? `nothing listens on ${where}: is it running (dbgrelay serve), and is the port right (wss 7443, tcps 7444 by default)?`
            : 'check the address and the network path from this host',
        }),
      );
    });
  });
}
