import type { IncomingMessage, ServerResponse } from 'node:http';
import { credentialFromAuthorization, pathWithoutQuery } from '../auth/credentialParser.js';
import { RelayError } from '../common/relayError.js';
import type { BlockList } from 'node:net';
import type { Logger } from '../log/logger.js';
import { clientOrigin, originFields, refuseCleartextOrigin } from './forwardedClient.js';
import { asRelayError, sendError, sendJson } from './httpResponses.js';
import { authenticate, type ListenerContext } from './listenerContext.js';
import { answerPtvsdInfo, servesPtvsd } from './ptvsdEndpoint.js';
import { pageRequestFromHeaders } from './targetListing.js';
import { isUpgradeOnlyPath } from './upgradeRoutes.js';
import { answerHealthProbe, isHealthProbe } from './healthProbes.js';
import { answerAttachCheck, isAttachCheck } from './attachCheck.js';
import type { Readiness } from '../lifecycle/readiness.js';
import { consolePath, isConsolePath } from './consoleEndpoint.js';

/**
 * The plain HTTP requests the `wss` listener answers: `GET /v1/targets` (one page of the
 * targets the credential may see), the attach check (attachCheck.ts), the `/ptvsd` info page, the health probes
 * (`/healthz`, `/livez`, `/readyz`: healthProbes.ts), the web console under `/console`
 * (when the relay serves one: consoleEndpoint.ts), and a JSON refusal for anything else.
 */
export function wssRequestHandler(
  context: ListenerContext,
  log: Logger,
  trustedProxies: BlockList,
  readiness?: Readiness,
): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  const { config } = context;
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const origin = clientOrigin(request.socket, request.headers, trustedProxies);
    const remote = origin.display;
    try {
      // The console's audit view takes its filters in the query string (never a credential).
      if (context.console && isConsolePath(consolePath(request.url))) {
        refuseCleartextOrigin(origin);
        return await context.console.answer(request, response, context, origin);
      }
      const path = pathWithoutQuery(request.url);
      // front ends and App Service probe the port they forward to
      if (readiness && isHealthProbe(path)) return answerHealthProbe(path, request.method, readiness, response);
      if (servesPtvsd(config, path)) return answerPtvsdInfo(config, context.registry, request, response);
      refuseCleartextOrigin(origin);
      if (isAttachCheck(request, path)) return await answerAttachCheck(context, request, response, path, origin);
      if (path !== '/v1/targets') {
        if (isUpgradeOnlyPath(path)) throw new RelayError('BAD_REQUEST', 'this endpoint requires a WebSocket upgrade');
        throw new RelayError('NOT_FOUND', 'no such endpoint');
      }
      if (request.method !== 'GET') throw new RelayError('BAD_REQUEST', 'only GET is allowed on /v1/targets');
      const principal = await authenticate(context, () => credentialFromAuthorization(request.headers.authorization), {
        via: 'wss',
        ...originFields(origin),
        endpoint: 'targets',
        socket: request.socket,
      });
      // One page (revision 1.9, paging fields in headers); the body always fits the client's bound.
      sendJson(response, 200, await context.targetPage(principal, pageRequestFromHeaders(request.headers)));
    } catch (error) {
      const relayError = asRelayError(error);
      if (relayError.code === 'INTERNAL') log.error({ err: error, remote }, 'request failed');
      sendError(response, relayError);
    }
  };
}
