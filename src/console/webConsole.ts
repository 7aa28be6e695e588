import type { IncomingMessage, ServerResponse } from 'node:http';
import { RelayError } from '../common/relayError.js';
import type { ConsoleEndpoint } from '../listeners/listenerContext.js';
import type { ClientOrigin } from '../listeners/forwardedClient.js';
import { asRelayError } from '../listeners/httpResponses.js';
import type { ListenerContext } from '../listeners/listenerContext.js';
import type { ConsoleArea } from '../metrics/consoleMetrics.js';
import * as api from './consoleApi.js';
import { ConsoleAssets } from './consoleAssets.js';
import { type ConsoleCaller, consoleCaller, fromOtherSite, refuseCrossSite } from './consoleAuth.js';
import { consoleSecurityHeaders, sendConsoleError } from './consoleHeaders.js';

const sessionActionPath = /^\/console\/api\/sessions\/([0-9a-f]{1,64})\/(end|resume)$/;

/**
 * The web console (docs/operations.md "Web console"): a page, a style sheet and a
 * script under `/console/`, and a JSON API under `/console/api/` behind the relay's
 * authentication (login cookie, `Authorization` header or client certificate).
 * Engineers (an attach scope) see the targets, sessions and audit records of the
 * targets they may attach to; administrators see everything and may end a session or
 * resume a stopped program. Reading is `GET`; everything else is a same-origin JSON
 * `POST` (consoleAuth.ts `refuseCrossSite`); no API request from another site is
 * answered (`fromOtherSite`).
 */
export class WebConsole implements ConsoleEndpoint {
  private readonly assets: ConsoleAssets;

  constructor(
    private readonly parts: api.ConsoleApiParts,
    assets?: ConsoleAssets,
  ) {
    this.assets = assets ?? new ConsoleAssets();
  }

  async answer(request: IncomingMessage, response: ServerResponse, context: ListenerContext, origin: ClientOrigin): Promise<void> {
    const url = new URL(request.url ?? '/', 'https://relay.invalid');
    const path = url.pathname;
    const method = request.method ?? 'GET';
    let caller: ConsoleCaller | undefined;
    let area: ConsoleArea = 'refused';
    try {
      if (!path.startsWith('/console/api/')) {
        if (method !== 'GET' && method !== 'HEAD') throw new RelayError('BAD_REQUEST', 'only GET is allowed on the console page');
        if (path === '/console') {
          response.writeHead(308, { ...consoleSecurityHeaders, Location: '/console/' }).end();
          return;
        }
        const name = path === '/console/' ? 'index.html' : path.slice('/console/'.length);
        if (!this.assets.has(name)) throw new RelayError('NOT_FOUND', 'no such console page');
        this.assets.send(response, name);
        area = 'page';
        return;
      }
      if (fromOtherSite(request)) {
        // 403 whoever asks: no credential makes another site's request acceptable.
        sendConsoleError(response, new RelayError('AUTH_FAILED', 'the console API answers the console itself only'), true);
        return;
      }
      if (path === '/console/api/login') {
        if (method !== 'POST') throw new RelayError('BAD_REQUEST', 'log in with POST');
        refuseCrossSite(request, undefined);
        await api.login(this.parts, context, request, response, origin);
        area = 'login';
        return;
      }
      caller = await consoleCaller(context, this.parts.logins, request, origin);
      area = await this.route(context, caller, request, response, path, method, url.searchParams);
    } catch (error) {
      const relayError = asRelayError(error);
      if (relayError.code === 'INTERNAL') this.parts.logger.error({ err: error, remote: origin.display }, 'console request failed');
      area = 'refused';
      sendConsoleError(response, relayError, caller !== undefined);
    } finally {
      this.parts.metrics?.requests.labels(area).inc();
    }
  }

  private async route(
    context: ListenerContext,
    caller: ConsoleCaller,
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
    method: string,
    query: URLSearchParams,
  ): Promise<ConsoleArea> {
    if (method === 'GET') {
      switch (path) {
        case '/console/api/me':
          api.me(caller, response);
          return 'me';
        case '/console/api/targets':
          await api.targets(context, caller, query, response);
          return 'targets';
        case '/console/api/sessions':
          api.sessions(this.parts, caller, response);
          return 'sessions';
        case '/console/api/audit':
          await api.audit(this.parts, caller, query, response);
          return 'audit';
      }
      throw new RelayError('NOT_FOUND', 'no such console endpoint');
    }
    if (method !== 'POST') throw new RelayError('BAD_REQUEST', 'the console API takes GET and POST only');
    refuseCrossSite(request, caller);
    if (path === '/console/api/logout') {
      api.logout(this.parts, caller, response);
      return 'logout';
    }
    const action = sessionActionPath.exec(path);
    if (!action?.[1] || (action[2] !== 'end' && action[2] !== 'resume')) throw new RelayError('NOT_FOUND', 'no such console endpoint');
    await api.sessionAction(this.parts, caller, action[1], action[2], response);
    return 'action';
  }
}
