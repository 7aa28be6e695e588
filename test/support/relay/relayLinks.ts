import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import type { Outcome } from '../hostile/hostileProbes.js';

/**
 * Message links to the relay's real wss and tcps listeners (docs/protocol.md §4–§6),
 * with any credential: what fake agents and raw clients speak through.
 */

/** A secret (Basic, or `secret` in the hello) or a bearer token. */
export type PeerCredential = { readonly secret: string } | { readonly token: string } | undefined;

/** Where the relay is: both listeners and the CA that issued its certificate. */
export interface RelayEndpoints {
  readonly wssPort: number;
  readonly tcpsPort: number;
  readonly ca: string;
  /** The listeners' host (default 127.0.0.1). */
  readonly host?: string;
}

/** The `Authorization` header for a credential. */
export function authorizationFor(credential: PeerCredential): Record<string, string> {
  if (credential === undefined) return {};
  if ('token' in credential) return { Authorization: `Bearer ${credential.token}` };
  return { Authorization: `Basic ${Buffer.from(`${credential.secret}:`).toString('base64')}` };
}

function helloCredential(credential: PeerCredential): Record<string, string> {
  if (credential === undefined) return {};
  return 'token' in credential ? { token: credential.token } : { secret: credential.secret };
}

/** A message-oriented connection: WebSocket frames or lines over TLS. */
export interface Link {
  /** Sends a control message (object → JSON), a raw text, or binary bytes. */
  send(message: object | string | Buffer): void;
  readonly received: unknown[];
  /** Raw bytes received (data connections). */
  bytes(): Buffer;
  /** Calls `listener` with each control message received from now on. */
  onMessage(listener: (message: unknown) => void): void;
  /** Calls `listener` with each chunk of raw bytes received from now on. */
  onBytes(listener: (chunk: Buffer) => void): void;
  /** Resolves once the relay closed the link; with the WebSocket close code when there is one. */
  readonly closed: Promise<number | undefined>;
  close(): void;
}

/** What a link keeps as it receives, shared by both kinds. */
function linkInbox(): {
  received: unknown[];
  chunks: Buffer[];
  message(message: unknown): void;
  bytes(chunk: Buffer): void;
  hooks: Pick<Link, 'received' | 'bytes' | 'onMessage' | 'onBytes'>;
} {
  const received: unknown[] = [];
  const chunks: Buffer[] = [];
  const messageListeners: Array<(message: unknown) => void> = [];
  const byteListeners: Array<(chunk: Buffer) => void> = [];
  return {
    received,
    chunks,
    message: (message) => {
      received.push(message);
      for (const listener of messageListeners) listener(message);
    },
    bytes: (chunk) => {
      chunks.push(chunk);
      for (const listener of byteListeners) listener(chunk);
    },
    hooks: {
      received,
      bytes: () => Buffer.concat(chunks),
      onMessage: (listener) => void messageListeners.push(listener),
      onBytes: (listener) => void byteListeners.push(listener),
    },
  };
}

/** Opens a WebSocket; resolves with the link, or with the HTTP refusal before any upgrade. */
export function openWebSocketLink(endpoints: RelayEndpoints, path: string, credential: PeerCredential): Promise<Link | Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://${endpoints.host ?? '127.0.0.1'}:${endpoints.wssPort}${path}`, {
      ca: endpoints.ca,
      headers: authorizationFor(credential),
    });
    const inbox = linkInbox();
    let onClose: (code: number | undefined) => void = () => undefined;
    const closed = new Promise<number | undefined>((r) => (onClose = r));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) inbox.bytes(data);
      else inbox.message(JSON.parse(data.toString('utf8')));
    });
    ws.on('close', (code: number) => onClose(code));
    ws.once('open', () =>
      resolve({
        ...inbox.hooks,
        send: (message) => ws.send(Buffer.isBuffer(message) ? message : typeof message === 'string' ? message : JSON.stringify(message), { binary: Buffer.isBuffer(message) }),
        closed,
        close: () => ws.terminate(),
      }),
    );
    ws.once('unexpected-response', (_request, response) => {
      const body: Buffer[] = [];
      response.on('data', (c: Buffer) => body.push(c));
      response.on('end', () => {
        let code: string | undefined;
        let message: string | undefined;
        try {
          const parsed = JSON.parse(Buffer.concat(body).toString('utf8')) as { error: { code: string; message: string } };
          code = parsed.error.code;
          message = parsed.error.message;
        } catch {
          // not a JSON refusal
        }
        resolve({ kind: 'http', status: response.statusCode ?? 0, ...(code ? { code } : {}), ...(message ? { message } : {}) });
      });
    });
    ws.once('error', (error) => reject(error));
  });
}

/** Opens a tcps connection with a hello; resolves with the link, or the refusal line. */
export function openTcpsLink(endpoints: RelayEndpoints, hello: Record<string, unknown>, credential: PeerCredential): Promise<Link | Outcome> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = tlsConnect({ host: endpoints.host ?? '127.0.0.1', port: endpoints.tcpsPort, ca: endpoints.ca, servername: 'localhost' }, () => {
      socket.setNoDelay(true);
      socket.write(JSON.stringify({ dbgrelay: 1, ...hello, ...helloCredential(credential) }) + '\n');
    });
    const inbox = linkInbox();
    let buffer = Buffer.alloc(0);
    let helloDone = false;
    let onClose: (code: number | undefined) => void = () => undefined;
    const closed = new Promise<number | undefined>((r) => (onClose = r));
    const lines = hello['op'] === 'agent';
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (helloDone && !lines) {
          if (buffer.length > 0) inbox.bytes(buffer);
          buffer = Buffer.alloc(0);
          return;
        }
        const newline = buffer.indexOf(0x0a);
        if (newline < 0) return;
        const line = JSON.parse(buffer.subarray(0, newline).toString('utf8')) as { ok?: boolean; error?: { code: string; message: string } };
        buffer = buffer.subarray(newline + 1);
        if (helloDone) {
          inbox.message(line);
          continue;
        }
        helloDone = true;
        if (line.ok !== true) {
          resolve({ kind: 'hello', ...(line.error ? { code: line.error.code, message: line.error.message } : {}) });
          socket.destroy();
          return;
        }
        resolve({
          ...inbox.hooks,
          send: (message) => socket.write(Buffer.isBuffer(message) ? message : (typeof message === 'string' ? message : JSON.stringify(message)) + '\n'),
          closed,
          close: () => socket.destroy(),
        });
      }
    });
    socket.on('close', () => onClose(undefined));
    socket.on('error', (error) => {
      if (!helloDone) reject(error);
    });
  });
}

/** True when `value` is a refusal rather than an open link. */
export function isOutcome(value: Link | Outcome): value is Outcome {
  return 'kind' in value;
}

/** Resolves when `predicate` holds for a received message, or after `timeoutMs` with undefined. */
export async function nextMessage(link: Link, predicate: (message: Record<string, unknown>) => boolean, timeoutMs = 3_000): Promise<Record<string, unknown> | undefined> {
  const deadline = Date.now() + timeoutMs;
  let closed = false;
  void link.closed.then(() => (closed = true));
  for (;;) {
    const found = link.received.find((m) => predicate(m as Record<string, unknown>));
    if (found) return found as Record<string, unknown>;
    if (closed || Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 10));
  }
}
