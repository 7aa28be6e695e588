import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import type { TestCertificates } from '../keys/testCertificates.js';

/** What a fake https relay does with one request. */
export type FakeHttpsAnswer = { status: number; body: string; delayMs?: number } | { upgrade: (ws: WebSocket) => void };

/** A local TLS server standing in for the relay, on 127.0.0.1 and a free port. */
export interface FakeRelay {
  readonly port: number;
  /** Request headers (https) or hello lines (tcps) received, in order. */
  readonly seen: string[];
  close(): Promise<void>;
}

/** An https + WebSocket server that answers every request with `answer(req)`; presents leaf + CA. */
export async function startFakeHttpsRelay(certs: TestCertificates, answer: (req: IncomingMessage) => FakeHttpsAnswer): Promise<FakeRelay> {
  const seen: string[] = [];
  const wss = new WebSocketServer({ noServer: true });
  const server = createHttpsServer({ cert: certs.chainPem, key: certs.keyPem });
  const reply = (res: ServerResponse, status: number, body: string): void => {
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(body);
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
    const a = answer(req);
    if (!('status' in a)) reply(res, 500, '{}');
    else if (a.delayMs !== undefined) setTimeout(() => reply(res, a.status, a.body), a.delayMs);
    else reply(res, a.status, a.body);
  });
  server.on('upgrade', (req: IncomingMessage, socket, head) => {
    seen.push(`UPGRADE ${req.url} ${req.headers.authorization ?? '-'}`);
    const a = answer(req);
    if ('status' in a) {
      socket.end(`HTTP/1.1 ${a.status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(a.body)}\r\nConnection: close\r\n\r\n${a.body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => a.upgrade(ws));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A TLS server that reads one hello line and hands it, with the socket, to `onHello`. */
export async function startFakeTcpsRelay(certs: TestCertificates, onHello: (line: string, socket: TLSSocket) => void): Promise<FakeRelay> {
  const seen: string[] = [];
  const sockets = new Set<TLSSocket>();
  const server = createTlsServer({ cert: certs.chainPem, key: certs.keyPem }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      const newline = buffered.indexOf('\n');
      if (newline < 0) return;
      socket.off('data', onData);
      const line = buffered.slice(0, newline);
      seen.push(line);
      onHello(line, socket);
    };
    socket.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
