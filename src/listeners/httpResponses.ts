import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { RelayError, httpStatusFor } from '../common/relayError.js';

/** Any error as a {@link RelayError}; unexpected ones become `INTERNAL` without details. */
export function asRelayError(error: unknown): RelayError {
  return error instanceof RelayError ? error : new RelayError('INTERNAL', 'internal error', { cause: error });
}

/** The JSON refusal body of docs/protocol.md §3. */
export function errorBody(error: RelayError): { error: { code: string; message: string } } {
  return { error: { code: error.code, message: error.message } };
}

function extraHeaders(error: RelayError): Record<string, string> {
  return error.code === 'AUTH_REQUIRED' || error.code === 'AUTH_FAILED' ? { 'WWW-Authenticate': 'Basic realm="dbgrelay"' } : {};
}

/**
 * Refuses a WebSocket upgrade before it happens: writes an HTTP response with the
 * JSON error body on the raw socket, then closes it (ws README, "Client
 * authentication").
 */
export function refuseUpgrade(socket: Duplex, error: RelayError): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = httpStatusFor(error.code);
  const body = JSON.stringify(errorBody(error));
  const headers = {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
    ...extraHeaders(error),
  };
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${head}\r\n${body}`);
}

/** Answers an HTTPS request with a JSON body. */
export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

/** Answers an HTTPS request with the refusal for `error`. */
export function sendError(response: ServerResponse, error: RelayError): void {
  sendJson(response, httpStatusFor(error.code), errorBody(error), extraHeaders(error));
}
