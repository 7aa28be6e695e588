import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import WebSocket from 'ws';

/**
 * The load tool's connections to a relay (or to the floor server that speaks the same
 * opening): docs/protocol.md §4 (tcps hello line) and §3 (wss upgrade with Basic
 * authentication). Lean on purpose: a worker holds thousands of them.
 */

/** Where the simulated agents and clients dial. */
export interface ScaleEndpoint {
  readonly transport: 'tcps' | 'wss';
  readonly host: string;
  readonly port: number;
  readonly ca: string;
  readonly secret: string;
}

/** A refusal from the far side: an error line, an HTTP error or a control `error`. */
export class Refused extends Error {
  constructor(readonly code: string) {
    super(`refused: ${code}`);
  }
}

/** One open connection: text messages (control) or raw bytes (DAP), both directions. */
export interface Channel {
  sendText(text: string): void;
  sendBytes(bytes: Buffer): void;
  /** Each text message (control) or each chunk of bytes (data) as it arrives. */
  onText(listener: (text: string) => void): void;
  onBytes(listener: (bytes: Buffer) => void): void;
  /** Called once when the connection closes, for whatever reason. */
  onClose(listener: () => void): void;
  close(): void;
}

/**
 * What a connection is for, as the hello's `op` says it; `raw` is a plain TLS
 * connection with no hello, or a WebSocket on any path (a TLS or WebSocket pipe in
 * front of the stand-in debuggee).
 */
export type Opening = { op: 'agent' } | { op: 'agentData'; sessionId: string } | { op: 'attach'; target: string } | { op: 'raw' };

function wssPath(opening: Opening): string {
  if (opening.op === 'agent') return '/v1/agent';
  if (opening.op === 'agentData') return `/v1/agent/sessions/${opening.sessionId}`;
  if (opening.op === 'attach') return `/v1/attach/${opening.target}`;
  return '/raw'; // a bare WebSocket pipe takes any path
}

/**
 * Opens a connection for `opening` from `localAddress`; rejects with {@link Refused}
 * on a refusal, with the socket's error otherwise, and with `timeout` after
 * `timeoutMs` (as the agent bounds its connect and hello).
 */
export function dial(endpoint: ScaleEndpoint, opening: Opening, localAddress: string, timeoutMs: number): Promise<Channel> {
  const open = endpoint.transport === 'wss' ? dialWss(endpoint, opening, localAddress) : dialTcps(endpoint, opening, localAddress);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error('timeout'));
      void open.then(
        (channel) => channel.close(),
        () => undefined,
      );
    }, timeoutMs);
    open.then(
      (channel) => {
        clearTimeout(timer);
        resolve(channel);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function dialTcps(endpoint: ScaleEndpoint, opening: Opening, localAddress: string): Promise<Channel> {
  return new Promise((resolve, reject) => {
    const tcp = tcpConnect({ host: endpoint.host, port: endpoint.port, localAddress });
    const socket: TLSSocket = tlsConnect({ socket: tcp, ca: endpoint.ca, servername: 'localhost' }, () => {
      socket.setNoDelay(true);
      if (opening.op !== 'raw') socket.write(`${JSON.stringify({ dbgrelay: 1, ...opening, secret: endpoint.secret })}\n`);
      else {
        opened = true;
        resolve(channel);
      }
    });
    const lines = opening.op === 'agent';
    let pending: Buffer = Buffer.alloc(0);
    let opened = false;
    let textListener: (text: string) => void = () => undefined;
    let bytesListener: (bytes: Buffer) => void = () => undefined;
    let closeListener: () => void = () => undefined;
    const channel: Channel = {
      sendText: (text) => void socket.write(`${text}\n`),
      sendBytes: (bytes) => void socket.write(bytes),
      onText: (listener) => (textListener = listener),
      onBytes: (listener) => (bytesListener = listener),
      onClose: (listener) => (closeListener = listener),
      close: () => socket.destroy(),
    };
    socket.on('data', (chunk: Buffer) => {
      if (opened && !lines) return bytesListener(chunk);
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      for (let newline = pending.indexOf(0x0a); newline >= 0; newline = pending.indexOf(0x0a)) {
        const line = pending.subarray(0, newline).toString('utf8');
        pending = pending.subarray(newline + 1);
        if (opened) {
          textListener(line);
          continue;
        }
        const answer = JSON.parse(line) as { ok?: boolean; error?: { code: string } };
        if (answer.ok !== true) {
          socket.destroy();
          return reject(new Refused(answer.error?.code ?? 'UNKNOWN'));
        }
        opened = true;
        resolve(channel);
        if (!lines && pending.length > 0) {
          bytesListener(pending);
          pending = Buffer.alloc(0);
        }
      }
    });
    socket.once('close', () => (opened ? closeListener() : reject(new Error('closed before the hello answer'))));
    socket.on('error', (error) => {
      if (!opened) reject(error);
    });
    tcp.on('error', (error) => socket.destroy(error));
  });
}

function dialWss(endpoint: ScaleEndpoint, opening: Opening, localAddress: string): Promise<Channel> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://${endpoint.host}:${endpoint.port}${wssPath(opening)}`, {
      ca: endpoint.ca,
      localAddress,
      perMessageDeflate: false,
      headers: { Authorization: `Basic ${Buffer.from(`${endpoint.secret}:`).toString('base64')}` },
    });
    let opened = false;
    let closeListener: () => void = () => undefined;
    ws.once('open', () => {
      opened = true;
      (ws as unknown as { _socket: TLSSocket })._socket.setNoDelay(true);
      resolve({
        sendText: (text) => ws.send(text),
        sendBytes: (bytes) => ws.send(bytes, { binary: true }),
        onText: (listener) => ws.on('message', (data: Buffer, binary: boolean) => !binary && listener(data.toString('utf8'))),
        onBytes: (listener) => ws.on('message', (data: Buffer, binary: boolean) => binary && listener(data)),
        onClose: (listener) => (closeListener = listener),
        close: () => ws.terminate(),
      });
    });
    ws.once('unexpected-response', (_request, response) => {
      const body: Buffer[] = [];
      response.on('data', (chunk: Buffer) => body.push(chunk));
      response.on('end', () => {
        let code = `HTTP_${response.statusCode ?? 0}`;
        try {
          code = (JSON.parse(Buffer.concat(body).toString('utf8')) as { error: { code: string } }).error.code;
        } catch {
          // not a JSON refusal: keep the status
        }
        reject(new Refused(code));
      });
    });
    ws.once('close', () => opened && closeListener());
    ws.on('error', (error) => {
      if (!opened) reject(error);
    });
  });
}
