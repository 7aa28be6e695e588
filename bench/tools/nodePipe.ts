/**
 * One bare Node.js byte-pipe hop as its own process: the floor of one hop of
 * `dbgrelay attach` or the relay, without any DAP logic.
 *
 *   node --import tsx bench/tools/nodePipe.ts tcp|tls|wss CA_FILE CHAIN_FILE KEY_FILE TARGET_PORT   # prints "LISTENING <port>"
 *
 * `tcp` listens on plain TCP (as `dbgrelay attach` does), `tls` on TLS (as the
 * relay's tcps listener does), `wss` on HTTPS taking WebSocket upgrades on any path
 * (as its wss listener does: each binary message's bytes go on, each chunk back is a
 * binary message); either way it dials `127.0.0.1:TARGET_PORT` over TLS.
 */
import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { createServer as createHttpsServer } from 'node:https';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { WebSocketServer } from 'ws';

const [mode, caFile, chainFile, keyFile, targetPort] = process.argv.slice(2);
if ((mode !== 'tcp' && mode !== 'tls' && mode !== 'wss') || !caFile || !chainFile || !keyFile || !targetPort) {
  console.error('usage: nodePipe.ts tcp|tls|wss CA_FILE CHAIN_FILE KEY_FILE TARGET_PORT');
  process.exit(2);
}
const upstreamOptions = { ca: readFileSync(caFile), servername: 'localhost', minVersion: 'TLSv1.2' as const, host: '127.0.0.1', port: Number(targetPort) };

function join2(a: Socket, b: Socket): void {
  a.setNoDelay(true);
  b.setNoDelay(true);
  a.pipe(b);
  b.pipe(a);
  const end = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', end).on('close', end);
  b.on('error', end).on('close', end);
}

const onConnection = (socket: Socket): void => join2(socket, tlsConnect(upstreamOptions));
const tlsOptions = { cert: readFileSync(chainFile), key: readFileSync(keyFile), minVersion: 'TLSv1.2' as const };
const server = mode === 'tcp' ? createTcpServer(onConnection) : mode === 'tls' ? createTlsServer(tlsOptions, onConnection) : webSocketPipe();
server.listen(0, '127.0.0.1', () => console.log(`LISTENING ${(server.address() as { port: number }).port}`));

/** HTTPS with `ws` (no compression, as the relay): every upgrade becomes a pipe to the target. */
function webSocketPipe() {
  const https = createHttpsServer(tlsOptions);
  const wss = new WebSocketServer({ server: https, perMessageDeflate: false });
  wss.on('connection', (ws, request) => {
    request.socket.setNoDelay(true);
    const upstream = tlsConnect(upstreamOptions);
    upstream.setNoDelay(true);
    ws.on('message', (data: Buffer) => upstream.write(data));
    upstream.on('data', (chunk: Buffer) => ws.send(chunk, { binary: true }));
    const end = (): void => {
      ws.terminate();
      upstream.destroy();
    };
    ws.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  return https;
}
