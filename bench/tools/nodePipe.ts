/**
 * One bare Node.js byte-pipe hop as its own process: the floor of one hop of
 * `dbgrelay attach` or the relay, without any DAP logic.
 *
 *   node --import tsx bench/tools/nodePipe.ts tcp|tls CA_FILE CHAIN_FILE KEY_FILE TARGET_PORT   # prints "LISTENING <port>"
 *
 * `tcp` listens on plain TCP (as `dbgrelay attach` does), `tls` on TLS (as the
 * relay does); either way it dials `127.0.0.1:TARGET_PORT` over TLS.
 */
import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';

const [mode, caFile, chainFile, keyFile, targetPort] = process.argv.slice(2);
if ((mode !== 'tcp' && mode !== 'tls') || !caFile || !chainFile || !keyFile || !targetPort) {
  console.error('usage: nodePipe.ts tcp|tls CA_FILE CHAIN_FILE KEY_FILE TARGET_PORT');
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
const server = mode === 'tcp' ? createTcpServer(onConnection) : createTlsServer({ cert: readFileSync(chainFile), key: readFileSync(keyFile), minVersion: 'TLSv1.2' }, onConnection);
server.listen(0, '127.0.0.1', () => console.log(`LISTENING ${(server.address() as { port: number }).port}`));
