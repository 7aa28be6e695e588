import { request } from 'node:https';
import { isIP, type Socket } from 'node:net';
import { relativeTime } from '../common/durationText.js';
import { printable } from '../common/printable.js';
import { scopesFromClaims } from '../auth/jwtAuthenticator.js';
import { decodeUnverified } from '../auth/tokenInspection.js';
import { openConnectTunnel, type HttpProxy } from '../dial/httpsProxy.js';
import type { RelayEndpoint } from '../dial/relayEndpoint.js';
import { checkResult, type DoctorCheckResult } from './doctorCheck.js';

/** The relay's clock as its HTTP `Date` header says (RFC 9110 §6.6.1), read from `/healthz`, which needs no credential. */
async function relayDate(endpoint: RelayEndpoint, timeoutMs: number, proxy: HttpProxy | undefined): Promise<{ date: Date; localMidpoint: number }> {
  const tunnel: Socket | undefined = proxy ? await openConnectTunnel(proxy, endpoint.host, endpoint.port, timeoutMs) : undefined;
  const sentAt = Date.now();
  return new Promise((resolve, reject) => {
    const req = request({
      host: endpoint.host,
      port: endpoint.port,
      path: '/healthz',
      method: 'GET',
      // Only the Date header is read and no credential is sent; the TLS check before this one decided trust.
      rejectUnauthorized: false,
      ...(isIP(endpoint.host) === 0 ? { servername: endpoint.host } : {}),
      ...(tunnel ? { createConnection: () => tunnel } : {}),
      timeout: timeoutMs,
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      const header = res.headers.date;
      const date = header === undefined ? undefined : new Date(header);
      if (date === undefined || Number.isNaN(date.getTime())) reject(new Error('the answer has no Date header'));
      else resolve({ date, localMidpoint: (sentAt + Date.now()) / 2 });
    });
    req.end();
  });
}

/**
 * This host's clock against the relay's (`Date` of a wss listener's answer; a `Date`
 * has whole seconds, so a skew under 1 s is not seen). A skew past `maxSkewMs` makes
 * tokens look expired or not yet valid to one side. Returns the skew (relay minus local, ms).
 */
export async function checkClock(
  endpoint: RelayEndpoint,
  timeoutMs: number,
  proxy: HttpProxy | undefined,
  maxSkewMs: number,
): Promise<{ result: DoctorCheckResult; skewMs?: number }> {
  if (endpoint.scheme !== 'wss')
    return { result: checkResult('clock', 'skip', "a tcps listener sends no HTTP Date header: run doctor against the relay's wss URL to compare clocks") };
  try {
    const { date, localMidpoint } = await relayDate(endpoint, timeoutMs, proxy);
    const skewMs = date.getTime() - localMidpoint;
    const seconds = Math.round(skewMs / 1000);
    const text = `the relay's clock is ${Math.abs(seconds)} s ${seconds >= 0 ? 'ahead of' : 'behind'} this host's (HTTP Date header)`;
    const details = { relayDate: date.toISOString(), localDate: new Date(localMidpoint).toISOString(), skewMs: Math.round(skewMs) };
    if (Math.abs(skewMs) > maxSkewMs + 1000) {
      return {
        result: checkResult('clock', 'warn', text, {
          fix: 'synchronise the clocks (NTP: timedatectl set-ntp true); tokens may look expired or not yet valid to the relay',
          details,
        }),
        skewMs,
      };
    }
    return { result: checkResult('clock', 'ok', text, { details }), skewMs };
  } catch (error) {
    return {
      result: checkResult('clock', 'warn', `cannot read the relay's clock: ${(error as Error).message}`, { fix: 'an older relay answers /healthz only on its metrics listener' }),
    };
  }
}

/**
 * The bearer token's claims, decoded without verifying it (only the relay can): who it
 * names, its scopes, and whether `exp` or `nbf` rule it out now by the relay's clock
 * (this host's plus `skewMs`).
 */
export function checkToken(token: string, source: string, skewMs = 0, now = Date.now()): DoctorCheckResult {
  let claims: ReturnType<typeof decodeUnverified>['claims'];
  try {
    claims = decodeUnverified(token).claims;
  } catch (error) {
    return checkResult('token', 'fail', `${source} is not a JWT: ${(error as Error).message}`, {
      code: 'AUTH_FAILED',
      fix: 'give the token `dbgrelay token issue` printed, whole and on one line',
    });
  }
  const relayNow = now + skewMs;
  let scopes: string[];
  try {
    scopes = scopesFromClaims(claims);
  } catch {
    scopes = [];
  }
  const details = {
    subject: typeof claims.sub === 'string' ? printable(claims.sub) : undefined,
    scopes,
    ...(typeof claims.nbf === 'number' ? { notBefore: new Date(claims.nbf * 1000).toISOString() } : {}),
    ...(typeof claims.exp === 'number' ? { expires: new Date(claims.exp * 1000).toISOString() } : {}),
  };
  const who = `${source}: ${details.subject !== undefined ? `jwt:${details.subject}` : 'no subject'}, scopes ${scopes.join(' ') || '(none)'}`;
  if (typeof claims.exp !== 'number')
    return checkResult('token', 'fail', `${who}; it has no exp claim`, { code: 'AUTH_FAILED', fix: 'the relay refuses a token without exp: issue one with a lifetime', details });
  if (claims.exp * 1000 <= relayNow) {
    return checkResult('token', 'fail', `${who}; it expired ${relativeTime(claims.exp * 1000, relayNow)}`, {
      code: 'AUTH_FAILED',
      fix: 'get a new token (dbgrelay token issue on the relay host, or your token service)',
      details,
    });
  }
  if (typeof claims.nbf === 'number' && claims.nbf * 1000 > relayNow) {
    return checkResult('token', 'fail', `${who}; it is not valid before ${details.notBefore}`, {
      code: 'AUTH_FAILED',
      fix: "wait, or correct the issuer's or this host's clock",
      details,
    });
  }
  return checkResult('token', 'ok', `${who}; expires ${relativeTime(claims.exp * 1000, relayNow)} (decoded, not verified: only the relay can)`, { details });
}
