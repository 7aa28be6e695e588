import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type SecureVersion, type TLSSocket } from 'node:tls';

/**
 * Raw probes for the hostile-input suite (test/e2e/hostileInputs.test.ts): they talk
 * to the relay's listeners byte by byte, below any client library, so that a test can
 * send what no well-behaved client would (bad HTTP, bad hello lines, old TLS, nothing
 * at all) and see exactly what the relay answers.
 */

/** What the relay did with one hostile input. */
export interface Outcome {
  /**
   * `http`: an HTTP response; `hello`: a tcps hello reply line; `control`: an `error`
   * control message (or a close) after an upgrade; `tls`: the TLS handshake failed;
   * `closed`: the relay closed the connection without an answer in the protocol.
   */
  readonly kind: 'http' | 'hello' | 'control' | 'tls' | 'closed';
  /** HTTP status (kind `http`). */
  readonly status?: number;
  /** The JSON error code, `OK` for a success, undefined when there was none. */
  readonly code?: string;
  /** The refusal's message, to check that it never quotes a credential. */
  readonly message?: string;
  /** TLS error code (kind `tls`), WebSocket close code (kind `control`). */
  readonly detail?: string | number;
  /** Every byte the relay sent (for kinds `http` and `closed`). */
  readonly raw?: string;
}

/** Where a listener is and how to trust it. */
export interface ProbeTarget {
  readonly port: number;
  /** PEM of the CA that issued the relay's certificate. */
  readonly ca: string;
}

/** What a raw exchange saw: the bytes, whether the relay closed, and a TLS error. */
export interface Exchange {
  readonly received: Buffer;
  /** True when the relay closed the connection before `waitMs` ran out. */
  readonly closedByPeer: boolean;
  readonly error?: string;
  readonly elapsedMs: number;
}

/** One piece of a slow sender: bytes, then a pause. */
export interface Drip {
  readonly bytes: Buffer | string;
  readonly pauseMs: number;
}

function exchangeOn(socket: Socket, ready: 'connect' | 'secureConnect', payload: Buffer | string | readonly Drip[] | undefined, waitMs: number): Promise<Exchange> {
  const started = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | undefined;
    let done = false;
    const finish = (closedByPeer: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ received: Buffer.concat(chunks), closedByPeer, ...(error ? { error } : {}), elapsedMs: performance.now() - started });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (e: Error & { code?: string }) => {
      error ??= e.code ?? e.message;
    });
    socket.on('close', () => finish(true));
    socket.once(ready, () => {
      if (payload === undefined) return;
      if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
        socket.write(payload);
        return;
      }
      void (async () => {
        for (const drip of payload) {
          if (socket.destroyed) return;
          socket.write(drip.bytes);
          await new Promise((r) => setTimeout(r, drip.pauseMs));
        }
      })();
    });
  });
}

/** Options of a probe's TLS connection (`localAddress` picks the loopback source address). */
export type ProbeTlsOptions = ConnectionOptions & { readonly localAddress?: string };

/** TLS options of a well-behaved client of the relay (verification on, loopback name). */
export function tlsOptions(target: ProbeTarget, extra: ProbeTlsOptions = {}): ConnectionOptions {
  return { host: '127.0.0.1', port: target.port, ca: target.ca, servername: 'localhost', ...extra };
}

/** Connects with TLS, writes `payload` (or drips it), and collects what comes back for up to `waitMs`. */
export function tlsExchange(target: ProbeTarget, payload: Buffer | string | readonly Drip[] | undefined, waitMs = 3_000, extra: ProbeTlsOptions = {}): Promise<Exchange> {
  const socket: TLSSocket = tlsConnect(tlsOptions(target, extra));
  return exchangeOn(socket, 'secureConnect', payload, waitMs);
}

/** Connects with plain TCP (no TLS) and does the same. */
export function tcpExchange(port: number, payload: Buffer | string | undefined, waitMs = 3_000): Promise<Exchange> {
  const socket = netConnect({ host: '127.0.0.1', port });
  return exchangeOn(socket, 'connect', payload, waitMs);
}

/** Parses an HTTP/1.1 response (status line, headers, JSON error body if any). */
export function parseHttpResponse(raw: Buffer): Outcome & { headers: Record<string, string> } {
  const text = raw.toString('latin1');
  const match = /^HTTP\/1\.1 (\d{3})[^\r\n]*\r\n/.exec(text);
  if (!match) return { kind: 'closed', raw: text, headers: {} };
  const end = text.indexOf('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of text.slice(match[0].length, end < 0 ? undefined : end).split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = end < 0 ? '' : raw.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1')).toString('utf8');
  let code: string | undefined;
  let message: string | undefined;
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown }; ok?: unknown };
    if (typeof parsed.error?.code === 'string') code = parsed.error.code;
    if (typeof parsed.error?.message === 'string') message = parsed.error.message;
    if (parsed.ok === true) code = 'OK';
  } catch {
    // not JSON: e.g. Node's own parser refusal
  }
  return { kind: 'http', status: Number(match[1]), ...(code ? { code } : {}), ...(message ? { message } : {}), raw: text, headers };
}

/** A request as a client would write it: method, path, headers. */
export interface RawRequest {
  readonly method?: string;
  readonly path: string;
  /** Header lines as written (name, value); values are not checked. */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  /** Adds the headers of a WebSocket opening handshake (RFC 6455 §4.1). */
  readonly upgrade?: boolean;
  readonly body?: string;
}

/** The bytes of `request`, with `Host`, and `Connection: close` unless it upgrades. */
export function requestBytes(request: RawRequest): string {
  const lines = [`${request.method ?? 'GET'} ${request.path} HTTP/1.1`, 'Host: localhost'];
  if (request.upgrade) {
    lines.push('Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`);
  } else {
    lines.push('Connection: close');
  }
  for (const [name, value] of request.headers ?? []) lines.push(`${name}: ${value}`);
  if (request.body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(request.body)}`);
  return lines.join('\r\n') + '\r\n\r\n' + (request.body ?? '');
}

/**
 * Sends `request` (or raw bytes) to the wss listener and returns the relay's HTTP
 * answer. A `101 Switching Protocols` shows up as status 101: a refusal row then fails.
 */
export async function httpProbe(target: ProbeTarget, request: RawRequest | string | Buffer, waitMs = 3_000, extra: ProbeTlsOptions = {}): Promise<Outcome> {
  const bytes = typeof request === 'string' || Buffer.isBuffer(request) ? request : requestBytes(request);
  const { received, error } = await tlsExchange(target, bytes, waitMs, extra);
  const parsed = parseHttpResponse(received);
  if (parsed.kind === 'closed' && error) return { kind: 'tls', detail: error };
  const { headers: _headers, ...outcome } = parsed;
  return outcome;
}

/** Sends raw bytes as a tcps hello and returns the relay's reply line. */
export async function helloProbe(target: ProbeTarget, payload: Buffer | string | readonly Drip[] | undefined, waitMs = 3_000): Promise<Outcome> {
  const { received, closedByPeer, error } = await tlsExchange(target, payload, waitMs);
  const text = received.toString('utf8');
  const newline = text.indexOf('\n');
  if (newline < 0) {
    if (error && received.length === 0 && !closedByPeer) return { kind: 'tls', detail: error };
    return { kind: 'closed', raw: text, detail: closedByPeer ? 'closed' : 'still open' };
  }
  try {
    const reply = JSON.parse(text.slice(0, newline)) as { ok?: boolean; error?: { code: string; message: string } };
    if (reply.ok === true) return { kind: 'hello', code: 'OK' };
    return { kind: 'hello', ...(reply.error ? { code: reply.error.code, message: reply.error.message } : {}) };
  } catch {
    return { kind: 'closed', raw: text };
  }
}

/** A hello line object as JSON plus newline. */
export function helloBytes(hello: Record<string, unknown>): string {
  return JSON.stringify(hello) + '\n';
}

/**
 * Tries a TLS handshake limited to `version` (older versions need OpenSSL security
 * level 0 on the client side to be offered at all). Resolves with the error code the
 * client saw, or `OK` plus the negotiated protocol.
 */
export function tlsVersionProbe(target: ProbeTarget, version: SecureVersion): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = tlsConnect(tlsOptions(target, { minVersion: version, maxVersion: version, ciphers: 'DEFAULT:@SECLEVEL=0' }), () => {
      resolve({ kind: 'tls', code: 'OK', detail: socket.getProtocol() ?? '?' });
      socket.destroy();
    });
    socket.on('error', (error: Error & { code?: string }) => {
      resolve({ kind: 'tls', detail: error.code ?? error.message });
      socket.destroy();
    });
  });
}
