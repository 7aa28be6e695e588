import type { IncomingMessage, ServerResponse } from 'node:http';
import { credentialFromAuthorization } from '../auth/credentialParser.js';
import { describeTarget } from '../targets/targetRegistry.js';
import { originFields, type ClientOrigin } from './forwardedClient.js';
import { sendJson } from './httpResponses.js';
import { authenticate, type ListenerContext } from './listenerContext.js';
import { parseUpgradeRoute, takeoverRequested } from './upgradeRoutes.js';

/** Request header of an attach check (docs/protocol.md §3, revision 1.14). */
export const attachCheckHeader = 'x-dbgrelay-check';

/** True for `GET /v1/attach/<target>` without an upgrade and with `X-Dbgrelay-Check: 1`: an attach check. */
export function isAttachCheck(request: IncomingMessage, path: string): boolean {
  if (request.method !== 'GET' || request.headers[attachCheckHeader] !== '1') return false;
  try {
    return parseUpgradeRoute(path).kind === 'attach';
  } catch {
    return false;
  }
}

/**
 * Answers an attach check (docs/protocol.md §3, revision 1.14): authenticates as an
 * attach to the target would (a target's attach secret counts, failures are counted
 * the same), then answers `{"ok":true}` when a session would be admitted now, or the
 * refusal it would get (`AUTH_FAILED`, `UNKNOWN_TARGET`, `TARGET_BUSY`,
 * `RELAY_DRAINING`, ...). Nothing is opened and the agent is not asked. An admitted
 * check carries the target's listing entry when it is connected here (revision 1.15):
 * the one thing a client would otherwise ask the target list for, which a target's
 * attach secret may not ask (and a refused listing counts as a failed attempt).
 */
export async function answerAttachCheck(context: ListenerContext, request: IncomingMessage, response: ServerResponse, path: string, origin: ClientOrigin): Promise<void> {
  const route = parseUpgradeRoute(path);
  if (route.kind !== 'attach') return;
  const takeover = takeoverRequested(request.headers);
  const principal = await authenticate(
    context,
    () => credentialFromAuthorization(request.headers.authorization),
    { via: 'wss', ...originFields(origin), endpoint: 'attach', socket: request.socket },
    route.target,
  );
  await context.sessions.checkAdmission({ principal, target: route.target, takeover });
  const entry = context.registry.lookup(route.target);
  sendJson(response, 200, { ok: true, ...(entry !== undefined ? { target: describeTarget(entry) } : {}) });
}
