import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testCertificates, type TestCertificates } from '../../test/helpers/testCertificates.js';
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
  const bridge = await spawnListening(venvPython, [join(here, 'pyPipe.py'), certs.chainFile, certs.keyFile, String(targetPort)], /LISTENING (\d+)/);
  const relay = await startNodePipe('tls', certs, bridge.port);
  const attach = await startNodePipe('tcp', certs, relay.port);
  return {
    localPort: attach.port,
    stop: async () => {
      for (const hop of [attach, relay, bridge]) hop.child.kill();
    },
  };
}

/**
 * One bare Node.js pipe hop (nodePipe.ts) as its own process: `tcp` or `tls` in, TLS
 * out to `127.0.0.1:targetPort` (trusting `certs.caFile`).
 */
export function startNodePipe(mode: 'tcp' | 'tls', certs: TestCertificates, targetPort: number): ReturnType<typeof spawnListening> {
  const args = ['--import', 'tsx', join(here, 'nodePipe.ts'), mode, certs.caFile, certs.chainFile, certs.keyFile, String(targetPort)];
  return spawnListening(process.execPath, args, /LISTENING (\d+)/);
}
