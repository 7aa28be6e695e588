import type { ServerResponse } from 'node:http';
import type { Readiness } from '../lifecycle/readiness.js';

/** The probe paths every HTTP listener of the relay answers, without a credential. */
const probePaths = new Set(['/healthz', '/livez', '/readyz']);

/** A plain-text answer that no cache keeps (the probes and the metrics listener). */
export function replyText(response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    ...headers,
  });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

/** True for `/healthz`, `/livez` and `/readyz`. */
export function isHealthProbe(path: string): boolean {
  return probePaths.has(path);
}

/**
 * Answers a health probe (docs/operations.md "Metrics and health"): `/healthz` and
 * `/livez` (Kubernetes' name) 200 while the process serves requests; `/readyz` 200 when
 * ready, else 503 with the reason. `GET` and `HEAD` only. The probes need no
 * credential and reveal nothing, so front ends and App Service can probe the main
 * listener as well as the metrics one.
 */
export function answerHealthProbe(path: string, method: string | undefined, readiness: Readiness, response: ServerResponse): void {
  if (method !== 'GET' && method !== 'HEAD') return replyText(response, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
  if (path !== '/readyz') return replyText(response, 200, 'ok\n');
  const reason = readiness.notReadyReason;
  return reason === undefined ? replyText(response, 200, 'ready\n') : replyText(response, 503, `not ready: ${reason}\n`);
}
