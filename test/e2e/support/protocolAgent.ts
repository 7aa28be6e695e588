import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import type { Outcome } from './hostileProbes.js';

/**
 * An agent and a client speaking docs/protocol.md §4–§6 over the relay's real wss and
 * tcps listeners, with any credential: the legitimate peers of the hostile-input
 * suite, and the hostile agents whose registrations it expects to be refused.
 */

/** A secret (Basic, or `secret` in the hello) or a bearer token. */
export type PeerCredential = { readonly secret: string } | { readonly token: string } | undefined;

/** Where the relay is: both listeners and the CA that issued its certificate. */
export interface RelayEndpoints {
  readonly wssPort: number;
  readonly tcpsPort: number;
  readonly ca: string;
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
  /** Resolves once the relay closed the link; with the WebSocket close code when there is one. */
  readonly closed: Promise<number | undefined>;
  close(): void;
}

/** Opens a WebSocket; resolves with the link, or with the HTTP refusal before any upgrade. */
export function openWebSocketLink(endpoints: RelayEndpoints, path: string, credential: PeerCredential): Promise<Link | Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${endpoints.wssPort}${path}`, {
      ca: endpoints.ca,
      headers: authorizationFor(credential),
    });
    const received: unknown[] = [];
    const chunks: Buffer[] = [];
    let onClose: (code: number | undefined) => void = () => undefined;
    const closed = new Promise<number | undefined>((r) => (onClose = r));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) chunks.push(data);
      else received.push(JSON.parse(data.toString('utf8')));
    });
    ws.on('close', (code: number) => onClose(code));
    ws.once('open', () =>
      resolve({
        send: (message) => ws.send(Buffer.isBuffer(message) ? message : typeof message === 'string' ? message : JSON.stringify(message), { binary: Buffer.isBuffer(message) }),
        received,
        bytes: () => Buffer.concat(chunks),
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
    const socket: TLSSocket = tlsConnect({ host: '127.0.0.1', port: endpoints.tcpsPort, ca: endpoints.ca, servername: 'localhost' }, () => {
      socket.setNoDelay(true);
      socket.write(JSON.stringify({ dbgrelay: 1, ...hello, ...helloCredential(credential) }) + '\n');
    });
    const received: unknown[] = [];
    let buffer = Buffer.alloc(0);
    let helloDone = false;
    const raw: Buffer[] = [];
    let onClose: (code: number | undefined) => void = () => undefined;
    const closed = new Promise<number | undefined>((r) => (onClose = r));
    const lines = hello['op'] === 'agent';
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (helloDone && !lines) {
          if (buffer.length > 0) raw.push(buffer);
          buffer = Buffer.alloc(0);
          return;
        }
        const newline = buffer.indexOf(0x0a);
        if (newline < 0) return;
        const line = JSON.parse(buffer.subarray(0, newline).toString('utf8')) as { ok?: boolean; error?: { code: string; message: string } };
        buffer = buffer.subarray(newline + 1);
        if (helloDone) {
          received.push(line);
          continue;
        }
        helloDone = true;
        if (line.ok !== true) {
          resolve({ kind: 'hello', ...(line.error ? { code: line.error.code, message: line.error.message } : {}) });
          socket.destroy();
          return;
        }
        resolve({
          send: (message) => socket.write(Buffer.isBuffer(message) ? message : (typeof message === 'string' ? message : JSON.stringify(message)) + '\n'),
          received,
          bytes: () => Buffer.concat(raw),
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

/** A `register` message (docs/protocol.md §5) with test process details. */
export function registerMessage(name: string, agentId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'register',
    agentId,
    target: { name, labels: { env: 'hostile-suite' } },
    process: { pid: 4242, host: 'suite-host', python: '3.12.1', debugpy: '1.8.22', agent: '0.1.0' },
    ...extra,
  };
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

/**
 * A hostile (or merely wrong) agent: opens a control connection with `credential`,
 * sends `messages` in order, and reports how the relay ended it: the HTTP or hello
 * refusal, or the `error` control message (code) and the WebSocket close code. A
 * `registered` answer is reported as code `REGISTERED`, so that a refusal row fails.
 */
export async function agentAttempt(
  endpoints: RelayEndpoints,
  via: 'wss' | 'tcps',
  credential: PeerCredential,
  messages: ReadonlyArray<object | string | Buffer>,
  timeoutMs = 3_000,
): Promise<Outcome> {
  const link = via === 'wss' ? await openWebSocketLink(endpoints, '/v1/agent', credential) : await openTcpsLink(endpoints, { op: 'agent' }, credential);
  if (isOutcome(link)) return link;
  for (const message of messages) link.send(message);
  const timedOut = Symbol('timeout');
  let timer: NodeJS.Timeout | undefined;
  const closeCode = await Promise.race([link.closed, new Promise<symbol>((r) => (timer = setTimeout(() => r(timedOut), timeoutMs)))]);
  clearTimeout(timer);
  const registered = link.received.some((m) => (m as { type?: unknown }).type === 'registered');
  const error = link.received.find((m) => (m as { type?: unknown }).type === 'error') as { code?: string; message?: string } | undefined;
  link.close();
  if (registered) return { kind: 'control', code: 'REGISTERED' };
  if (closeCode === timedOut) return { kind: 'control', code: 'STILL_OPEN' };
  return {
    kind: 'control',
    ...(error?.code ? { code: error.code } : {}),
    ...(error?.message ? { message: error.message } : {}),
    ...(typeof closeCode === 'number' ? { detail: closeCode } : {}),
  };
}

/**
 * A well-behaved agent over the real protocol: registers one target, answers pings,
 * and (unless `autoOpen` is false) opens a data connection with its own credential
 * for every `open`.
 */
export class ProtocolAgent {
  readonly opens: string[] = [];
  readonly dataLinks: Link[] = [];
  /** Open a data connection for each `open` (tests turn it off to hold a session id pending). */
  autoOpen = true;
  /** True once the relay closed the control connection. */
  disconnected = false;

  private constructor(
    private readonly endpoints: RelayEndpoints,
    private readonly via: 'wss' | 'tcps',
    private readonly credential: PeerCredential,
    readonly control: Link,
  ) {
    void control.closed.then(() => (this.disconnected = true));
  }

  /** Connects and registers `name`; rejects unless the relay answers `registered`. */
  static async start(
    endpoints: RelayEndpoints,
    options: { via: 'wss' | 'tcps'; credential: PeerCredential; name: string; agentId: string; attachSecret?: string },
  ): Promise<ProtocolAgent> {
    const { via, credential } = options;
    const link = via === 'wss' ? await openWebSocketLink(endpoints, '/v1/agent', credential) : await openTcpsLink(endpoints, { op: 'agent' }, credential);
    if (isOutcome(link)) throw new Error(`agent ${options.name} refused: ${JSON.stringify(link)}`);
    const agent = new ProtocolAgent(endpoints, via, credential, link);
    const extra = options.attachSecret !== undefined ? { attachSecret: options.attachSecret } : {};
    link.send(registerMessage(options.name, options.agentId, extra));
    const registered = await nextMessage(link, (m) => m['type'] === 'registered' || m['type'] === 'error');
    if (registered?.['type'] !== 'registered') throw new Error(`agent ${options.name} not registered: ${JSON.stringify(registered)}`);
    agent.pump();
    return agent;
  }

  /** Messages of `type` received so far. */
  messages(type: string): Array<Record<string, unknown>> {
    return this.control.received.filter((m) => (m as { type?: unknown }).type === type) as Array<Record<string, unknown>>;
  }

  /** Opens the data connection for `sessionId` with this agent's credential. */
  async openData(sessionId: string): Promise<Link | Outcome> {
    const link =
      this.via === 'wss'
        ? await openWebSocketLink(this.endpoints, `/v1/agent/sessions/${sessionId}`, this.credential)
        : await openTcpsLink(this.endpoints, { op: 'agentData', sessionId }, this.credential);
    if (!isOutcome(link)) this.dataLinks.push(link);
    return link;
  }

  close(): void {
    this.control.close();
    for (const link of this.dataLinks) link.close();
  }

  private pump(): void {
    let seen = 0;
    const timer = setInterval(() => {
      const fresh = this.control.received.slice(seen);
      seen = this.control.received.length;
      for (const message of fresh as Array<Record<string, unknown>>) {
        if (message['type'] === 'ping') this.control.send({ type: 'pong', id: message['id'] });
        if (message['type'] === 'open') {
          const sessionId = String(message['sessionId']);
          this.opens.push(sessionId);
          if (this.autoOpen) void this.openData(sessionId);
        }
      }
    }, 5);
    void this.control.closed.then(() => clearInterval(timer));
  }
}
