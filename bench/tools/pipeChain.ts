import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testCertificates } from '../../test/helpers/testCertificates.js';
import { venvPython } from '../../test/e2e/support/debuggee.js';
import { spawnListening } from './ports.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The floor of dbgrelay's topology: bare byte pipes, no DAP, no authentication. */
export interface PipeChain {
  readonly localPort: number;
  stop(): Promise<void>;
}

/**
 * Client → (Node process: TCP in, TLS out) → (Node process: TLS in, TLS out) →
 * (Python process: TLS in, TCP out, the bridge's SocketStream on uvloop) →
 * `127.0.0.1:targetPort`: the hops of `dbgrelay attach`, the relay and the agent
 * bridge, each its own process on the same runtime as the real one, with nothing in
 * them except moving bytes.
 */
export async function startPipeChain(targetPort: number): Promise<PipeChain> {
  const certs = testCertificates('pipe-chain');
  const startHop = (command: string, args: string[]) => spawnListening(command, args, /LISTENING (\d+)/);
  const bridge = await startHop(venvPython, [join(here, 'pyPipe.py'), certs.chainFile, certs.keyFile, String(targetPort)]);
  const nodeHop = (mode: 'tcp' | 'tls', port: number) =>
    startHop(process.execPath, ['--import', 'tsx', join(here, 'nodePipe.ts'), mode, certs.caFile, certs.chainFile, certs.keyFile, String(port)]);
  const relay = await nodeHop('tls', bridge.port);
  const attach = await nodeHop('tcp', relay.port);
  return {
    localPort: attach.port,
    stop: async () => {
      for (const hop of [attach, relay, bridge]) hop.child.kill();
    },
  };
}
