import type { Socket } from 'node:net';
import type WebSocket from 'ws';

/**
 * Bounds a WebSocket upgrade made on a socket of the caller's: `ws`'s own
 * `handshakeTimeout` is not applied to a socket given through `createConnection`, so a
 * relay (or a front end) that completes TLS and never answers the upgrade would hold
 * the dial for ever. Unless `ws` opens, fails or is refused within `ms`, `onTimeout`
 * runs first (the caller rejects with its own error), then `ws` and `socket` end.
 */
export function upgradeWithin(ws: WebSocket, socket: Socket, ms: number, onTimeout: () => void): void {
  const timer = setTimeout(() => {
    onTimeout();
    ws.terminate();
    socket.destroy();
  }, ms);
  timer.unref?.();
  const clear = (): void => clearTimeout(timer);
  ws.once('open', clear);
  ws.once('error', clear);
  ws.once('unexpected-response', clear);
  ws.once('close', clear);
}
