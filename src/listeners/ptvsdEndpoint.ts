import type { IncomingMessage, ServerResponse } from 'node:http';
import { RelayError } from '../common/relayError.js';
import type { RelayConfig } from '../config/configSchema.js';
import type { AgentConnection } from '../agents/agentConnection.js';
import type { TargetRegistry } from '../targets/targetRegistry.js';
import { renderPtvsdInfoPage } from './ptvsdInfoPage.js';
import { currentPtvsdTarget } from './ptvsdTarget.js';

/**
 * The path of the ptvsd-compatible endpoint (the Azure App Service model): `wss://<secret>@<site>/ptvsd`
 * attaches to the relay's default target; a plain GET shows how to attach.
 */
export const ptvsdPath = '/ptvsd';

/** True for `/ptvsd` and `/ptvsd/`. */
export function isPtvsdPath(path: string): boolean {
  return path === ptvsdPath || path === `${ptvsdPath}/`;
}

/** True when `path` is the `/ptvsd` endpoint and `ptvsd.enabled` is on. */
export function servesPtvsd(config: RelayConfig, path: string): boolean {
  return config.ptvsd.enabled && isPtvsdPath(path);
}

/**
 * Answers a plain `GET`/`HEAD /ptvsd` with the info page (no credential needed: it
 * shows no secret, only that the proxy is configured and the default target's state).
 */
export function answerPtvsdInfo(config: RelayConfig, registry: TargetRegistry<AgentConnection>, request: IncomingMessage, response: ServerResponse): void {
  if (request.method !== 'GET' && request.method !== 'HEAD') throw new RelayError('BAD_REQUEST', 'only GET is allowed on /ptvsd (or a WebSocket upgrade)');
  const choice = currentPtvsdTarget(config, registry);
  const connected = choice.target !== undefined && registry.lookup(choice.target) !== undefined;
  const page = renderPtvsdInfoPage({ host: request.headers.host, choice, connected });
  response.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(page),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
  });
  response.end(request.method === 'HEAD' ? undefined : page);
}
