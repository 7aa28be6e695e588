import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, type Registry } from 'prom-client';
import type { MetricsConfig } from '../config/observabilityConfigSchema.js';
import type { Logger } from '../log/logger.js';
import { ScrapeToken } from '../metrics/scrapeToken.js';
import type { ListenAddress, RunningListener } from '../net/serverSockets.js';
import type { Readiness } from '../lifecycle/readiness.js';
import { hostPort } from '../common/hostPort.js';
import { answerHealthProbe, isHealthProbe, replyText as reply } from './healthProbes.js';

/** Options of {@link startMetricsListener}. */
export interface MetricsListenerOptions {
  readonly config: MetricsConfig;
  /** The relay's own registry; the process metrics are added to it. */
  readonly registry: Registry;
  readonly readiness: Readiness;
  /** Bound on receiving a request's headers and the whole request (config `limits.handshakeTimeoutMs`). */
  readonly requestTimeoutMs: number;
  /** Logger tagged `relay`. */
  readonly logger: Logger;
}

/**
 * How long the metrics listener keeps an idle HTTP connection open for the next
 * request: Node's own default, written down. Prometheus scrapes every 15 s or more, so
 * it reconnects each time; nothing is gained by holding idle connections longer.
 */
export const metricsKeepAliveTimeoutMs = 5_000;

/**
 * Starts the metrics listener (config `metrics.*`; docs/operations.md "Metrics and
 * health"): plain HTTP with `GET /metrics` (the relay's registry plus prom-client's
 * default process and Node.js metrics under their standard names, `process_*` and
 * `nodejs_*`), `GET /healthz` (200 while the process serves requests) and
 * `GET /readyz` (200 when ready, else 503 with the reason). With
 * `metrics.bearerTokenFile`, `/metrics` needs `Authorization: Bearer <token>`; the
 * probes never do (kubelet and load balancers probe without credentials, and they
 * reveal nothing). Throws `CONFIG_INVALID` (token file) or the listen error
 * (e.g. `EADDRINUSE`).
 */
export async function startMetricsListener(options: MetricsListenerOptions): Promise<RunningListener> {
  const { config, registry, readiness, logger } = options;
  let token: ScrapeToken | undefined;
  if (config.bearerTokenFile !== undefined) {
    const read = ScrapeToken.fromFile(config.bearerTokenFile);
    token = read.token;
    if (read.looseFileMode) logger.warn({ file: config.bearerTokenFile }, 'metrics bearer token file is readable by group or others; chmod 600 it');
  }
  collectDefaultMetrics({ register: registry });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (isHealthProbe(path)) return answerHealthProbe(path, request.method, readiness, response);
    if (request.method !== 'GET' && request.method !== 'HEAD') return reply(response, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    if (path !== '/metrics') return reply(response, 404, 'not found\n');
    if (token && !token.accepts(request.headers.authorization)) {
      logger.debug({ remote: `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}` }, 'metrics scrape refused');
      return reply(response, 401, 'a bearer token is required\n', { 'WWW-Authenticate': 'Bearer realm="dbgrelay-metrics"' });
    }
    const text = await registry.metrics();
    return reply(response, 200, text, { 'Content-Type': registry.contentType });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error({ err: error }, 'metrics request failed');
      if (!response.headersSent) reply(response, 500, 'internal error\n');
      else response.destroy();
    });
  });
  server.headersTimeout = options.requestTimeoutMs;
  server.requestTimeout = options.requestTimeoutMs;
  server.keepAliveTimeout = metricsKeepAliveTimeoutMs;

  const address = await new Promise<ListenAddress>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      server.on('error', (error: NodeJS.ErrnoException) => logger.error({ scheme: 'http', code: error.code }, 'metrics listener error'));
      const info = server.address() as AddressInfo;
      resolve({ host: info.address, port: info.port, url: `http://${hostPort(info.address, info.port)}` });
    });
  });

  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
