import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * The runtime's floor for the load tool: a bare Node TLS (tcps) or HTTPS + `ws` (wss)
 * server that does for each agent only what the protocol requires: checks the secret,
 * answers the hello and `register`, pings every `intervalMs` and drops an agent
 * silent for `timeoutMs`. No registry, no logs, no metrics. Run as its own process by
 * `bench/scale.ts`, which sends it `{ transport, port, certFile, keyFile, secret }`
 * over IPC and reads its listening port back.
 */

interface FloorOptions {
  readonly transport: 'tcps' | 'wss';
  readonly port: number;
  readonly certFile: string;
  readonly keyFile: string;
  readonly secret: string;
}

const heartbeat = { intervalMs: 5_000, timeoutMs: 15_000 };

/** A heartbeat of one connection: `ping` every interval, closed after silence. */
function keepAlive(send: (text: string) => void, close: () => void): { heard(): void; stop(): void } {
  let id = 0;
  const pinger = setInterval(() => send(JSON.stringify({ type: 'ping', id: ++id })), heartbeat.intervalMs);
  let silence = setTimeout(close, heartbeat.timeoutMs);
  return {
    heard: () => {
      clearTimeout(silence);
      silence = setTimeout(close, heartbeat.timeoutMs);
    },
    stop: () => {
      clearInterval(pinger);
      clearTimeout(silence);
    },
  };
}

function registeredAnswer(text: string): string {
  const register = JSON.parse(text) as { target: { name: string } };
  return JSON.stringify({ type: 'registered', target: register.target.name, heartbeat });
}

function secretMatches(expected: Buffer, given: string): boolean {
  return timingSafeEqual(expected, createHash('sha256').update(given).digest());
}

function serveTcps(options: FloorOptions, expected: Buffer, onListening: (port: number) => void): void {
  const server = createTlsServer({ cert: readFileSync(options.certFile), key: readFileSync(options.keyFile) }, (socket: TLSSocket) => {
    socket.setNoDelay(true);
    let pending = '';
    let state: 'hello' | 'register' | 'control' = 'hello';
    let alive: ReturnType<typeof keepAlive> | undefined;
    socket.on('data', (chunk: Buffer) => {
      alive?.heard();
      pending += chunk.toString('utf8');
      for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (state === 'hello') {
          if (!secretMatches(expected, String((JSON.parse(line) as { secret?: string }).secret))) {
            socket.destroy();
            return;
          }
          socket.write('{"ok":true}\n');
          state = 'register';
        } else if (state === 'register') {
          socket.write(`${registeredAnswer(line)}\n`);
          alive = keepAlive(
            (text) => socket.write(`${text}\n`),
            () => socket.destroy(),
          );
          state = 'control';
        }
      }
    });
    socket.on('close', () => alive?.stop());
    socket.on('error', () => undefined);
  });
  server.listen(options.port, '127.0.0.1', () => onListening((server.address() as { port: number }).port));
}

function serveWss(options: FloorOptions, expected: Buffer, onListening: (port: number) => void): void {
  const server = createHttpsServer({ cert: readFileSync(options.certFile), key: readFileSync(options.keyFile) });
  const sockets = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on('upgrade', (request, socket, head) => {
    const basic = /^Basic (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const secret = basic === undefined ? '' : Buffer.from(basic, 'base64').toString('utf8').replace(/:$/, '');
    if (!secretMatches(expected, secret)) {
      socket.destroy();
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws: WebSocket) => {
      let alive: ReturnType<typeof keepAlive> | undefined;
      ws.on('message', (data: Buffer) => {
        alive?.heard();
        if (alive !== undefined) return;
        ws.send(registeredAnswer(data.toString('utf8')));
        alive = keepAlive(
          (text) => ws.send(text),
          () => ws.terminate(),
        );
      });
      ws.on('close', () => alive?.stop());
      ws.on('error', () => undefined);
    });
  });
  server.listen(options.port, '127.0.0.1', () => onListening((server.address() as { port: number }).port));
}

process.once('message', (options: FloorOptions) => {
  const expected = createHash('sha256').update(options.secret).digest();
  const listening = (port: number): void => void process.send!({ port });
  if (options.transport === 'tcps') serveTcps(options, expected, listening);
  else serveWss(options, expected, listening);
});
process.on('disconnect', () => process.exit(0));
