import type { IncomingMessage, ServerResponse } from 'node:http';
import { RelayError } from '../common/relayError.js';
import type { RelayConfig } from '../config/configSchema.js';
import type { AgentConnection } from '../targets/agentConnection.js';
import type { TargetRegistry } from '../targets/targetRegistry.js';
import { renderPtvsdInfoPage } from './ptvsdInfoPage.js';

/**
 * The path of the ptvsd-compatible endpoint (the Azure App Service model): `wss://<secret>@<site>/ptvsd`
 * attaches to the relay's default target; a plain GET shows how to attach.
 */
export const ptvsdPath = '/ptvsd';

/** True for `/ptvsd` and `/ptvsd/`. */
export function isPtvsdPath(path: string): boolean {
  return path === ptvsdPath || path === `${ptvsdPath}/`;
}

/** Which target a `/ptvsd` session goes to, or why there is none. */
export type PtvsdTargetChoice =
  | { readonly target: string; readonly how: 'configured' | 'onlyConnected' }
  | { readonly target: undefined; readonly problem: string };

/**
 * The target of a `/ptvsd` session: `ptvsd.defaultTarget` when set (connected or not:
 * the session broker says `UNKNOWN_TARGET` when it is not); else the only connected
 * target when exactly one is; else nothing, with the reason.
 */
export function choosePtvsdTarget(defaultTarget: string | undefined, connected: readonly string[]): PtvsdTargetChoice {
  if (defaultTarget !== undefined) return { target: defaultTarget, how: 'configured' };
  if (connected.length === 1) return { target: connected[0]!, how: 'onlyConnected' };
  const problem =
    connected.length === 0
      ? 'no target is connected and ptvsd.defaultTarget is not set'
      : `${connected.length} targets are connected and ptvsd.defaultTarget is not set; set it in the relay's configuration, or attach by name (dbgrelay attach <target>)`;
  return { target: undefined, problem };
}

/** The error a `/ptvsd` upgrade is refused with when {@link choosePtvsdTarget} found no target. */
export function noPtvsdTarget(problem: string): RelayError {
  return new RelayError('UNKNOWN_TARGET', `no default target for /ptvsd: ${problem}`);
}

/** True when `path` is the `/ptvsd` endpoint and `ptvsd.enabled` is on. */
export function servesPtvsd(config: RelayConfig, path: string): boolean {
  return config.ptvsd.enabled && isPtvsdPath(path);
}

/** {@link choosePtvsdTarget} for the relay's configuration and the targets connected now. */
export function currentPtvsdTarget(config: RelayConfig, registry: TargetRegistry<AgentConnection>): PtvsdTargetChoice {
  return choosePtvsdTarget(config.ptvsd.defaultTarget, registry.list().map((target) => target.name));
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
