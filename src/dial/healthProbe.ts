import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { RelayError } from '../common/relayError.js';

/** What a health endpoint answered. */
export interface HealthAnswer {
  readonly status: number;
  /** The answer's first line (`ok`, `ready`, `not ready: draining`). */
  readonly text: string;
}

/** Bound on the answer read: the probes answer a few bytes. */
const maxAnswerBytes = 1024;

/**
 * GETs a health probe of a relay on this host (`/livez`, `/readyz`) and resolves with
 * its status, whatever it is. Over https any certificate is accepted: the probe sends
 * no credential and learns only the status, and the relay's certificate (development,
 * self-signed, or made for a public name) need not name the loopback address dialed.
 * Throws `RELAY_UNREACHABLE` when nothing answers within `timeoutMs`.
 */
export function probeHealth(url: URL, timeoutMs: number): Promise<HealthAnswer> {
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => reject(new RelayError('RELAY_UNREACHABLE', `${url.href}: ${why}`));
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(url, { method: 'GET', timeout: timeoutMs, rejectUnauthorized: false, headers: { Connection: 'close' } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (body.length < maxAnswerBytes) body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: body.slice(0, maxAnswerBytes).split('\n')[0]!.trim() }));
      response.on('error', (error) => fail(error.message));
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error: NodeJS.ErrnoException) => fail(error.code ?? error.message));
    request.end();
  });
}
