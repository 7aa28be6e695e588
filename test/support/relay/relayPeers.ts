import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import { connect, type TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import type { ListenAddress } from '../../../src/relay/relayServer.js';

/** Basic credential header carrying `secret` as the user name. */
export const basicAuth = (secret: string): Record<string, string> => ({
  Authorization: `Basic ${Buffer.from(`${secret}:`).toString('base64')}`,
});

/** An HTTP refusal seen by a WebSocket client before any upgrade. */
export interface Refusal {
  readonly status: number;
  readonly body: { error: { code: string; message: string } };
}

/** Opens a WebSocket to the relay; rejects with a {@link Refusal} when the relay answers HTTP. */
export function openWebSocket(address: ListenAddress, path: string, ca: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${address.url}${path}`, { ca, headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => reject({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) } satisfies Refusal));
    });
    ws.once('error', reject);
  });
}

/** Opens a WebSocket that must be refused; resolves with the refusal. */
export async function refusedWebSocket(address: ListenAddress, path: string, ca: string, headers: Record<string, string> = {}): Promise<Refusal> {
  try {
    const ws = await openWebSocket(address, path, ca, headers);
    ws.terminate();
  } catch (error) {
    if (typeof (error as Refusal).status === 'number') return error as Refusal;
    throw error;
  }
  throw new Error('expected the upgrade to be refused');
}

/** GET over HTTPS; resolves with status and parsed JSON body. */
export function httpsGet(address: ListenAddress, path: string, ca: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address.host, port: address.port, path, ca, headers, servername: 'localhost' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** What {@link httpsCall} got back: status, headers and the body as text. */
export interface HttpsAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/** An HTTPS request to the relay: method (default GET), headers, body, and a client certificate. */
export interface HttpsCall {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly cert?: string;
  readonly key?: string;
}

/** Any HTTPS request to the relay, verified against `ca`; resolves with the whole answer. */
export function httpsCall(address: ListenAddress, path: string, ca: string, call: HttpsCall = {}): Promise<HttpsAnswer> {
  const { method = 'GET', headers = {}, body, cert, key } = call;
  return new Promise((resolve, reject) => {
    const tls = cert !== undefined && key !== undefined ? { cert, key } : {};
    const req = request({ host: address.host, port: address.port, method, path, ca, headers, servername: 'localhost', ...tls }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A TLS connection with a buffered reader for lines and raw bytes. */
export class TcpsPeer {
  private buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  ended = false;

  private constructor(readonly socket: TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }

  /** Connects to the relay's tcps listener, verifying it against `ca`. */
  static connect(address: ListenAddress, ca: string): Promise<TcpsPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: address.host, port: address.port, ca, servername: 'localhost' }, () => resolve(new TcpsPeer(socket)));
      socket.setNoDelay(true);
      socket.once('error', reject);
    });
  }

  /** Takes whatever is buffered (bytes that came with the last line read). */
  takeBuffered(): Buffer {
    const bytes = this.buffer;
    this.buffer = Buffer.alloc(0);
    return bytes;
  }

  /** Sends one JSON line. */
  sendLine(value: unknown): void {
    this.socket.write(JSON.stringify(value) + '\n');
  }

  /** The next line, parsed. Rejects if the connection ends first. */
  async readLine(): Promise<any> {
    for (;;) {
      const newline = this.buffer.indexOf(0x0a);
      if (newline >= 0) {
        const line = this.buffer.subarray(0, newline).toString();
        this.buffer = this.buffer.subarray(newline + 1);
        return JSON.parse(line);
      }
      if (this.ended) throw new Error('connection ended');
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Waits until `length` raw bytes are buffered and takes them. */
  async readBytes(length: number): Promise<Buffer> {
    while (this.buffer.length < length) {
      if (this.ended) throw new Error('connection ended');
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    const bytes = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    return bytes;
  }

  /** Connects and performs a hello; resolves with the peer and the relay's reply. */
  static async hello(address: ListenAddress, ca: string, hello: Record<string, unknown>): Promise<{ peer: TcpsPeer; reply: any }> {
    const peer = await TcpsPeer.connect(address, ca);
    peer.sendLine({ dbgrelay: 1, ...hello });
    return { peer, reply: await peer.readLine() };
  }
}
