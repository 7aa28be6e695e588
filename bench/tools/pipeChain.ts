import { spawn } from 'node:child_process';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { testCertificates } from '../../test/helpers/testCertificates.js';
import { venvPython } from '../../test/e2e/support/debuggee.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The floor of dbgrelay's topology: bare byte pipes, no DAP, no authentication. */
export interface PipeChain {
  readonly localPort: number;
  stop(): Promise<void>;
}

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

function listening(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

/**
 * Client → (Node, in this process: TCP in, TLS out) → (Node, in this process: TLS in,
 * TLS out) → (Python, own process: TLS in, TCP out, the bridge's SocketStream on
 * uvloop) → `127.0.0.1:targetPort`: the hops of `dbgrelay attach`, the relay and the
 * agent bridge, with the same runtimes and process layout as the bench's dbgrelay
 * paths, but nothing in them except moving bytes.
 */
export async function startPipeChain(targetPort: number): Promise<PipeChain> {
  const certs = testCertificates('pipe-chain');
  const python = spawn(venvPython, [join(here, 'pyPipe.py'), certs.chainFile, certs.keyFile, String(targetPort)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pythonPort = await new Promise<number>((resolve, reject) => {
    let text = '';
    python.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /LISTENING (\d+)/.exec(text);
      if (match) resolve(Number(match[1]));
    });
    python.once('exit', (code) => reject(new Error(`pyPipe.py exited with ${code}`)));
  });
  const tlsOptions = { ca: certs.caPem, servername: 'localhost', minVersion: 'TLSv1.2' as const };
  const middle = createTlsServer({ cert: certs.chainPem, key: certs.keyPem, minVersion: 'TLSv1.2' }, (socket) => {
    join2(socket, tlsConnect({ ...tlsOptions, host: '127.0.0.1', port: pythonPort }));
  });
  const middlePort = await listening(middle);
  const front = createTcpServer((socket) => join2(socket, tlsConnect({ ...tlsOptions, host: '127.0.0.1', port: middlePort })));
  const localPort = await listening(front);
  return {
    localPort,
    stop: async () => {
      python.kill();
      front.close();
      middle.close();
    },
  };
}
