import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testCertificates, type TestCertificates } from '../../test/support/keys/testCertificates.js';
import { venvPython } from '../../test/support/processes/debuggee.js';
import { freePort, spawnListening, waitForPort } from './ports.js';

const here = dirname(fileURLToPath(import.meta.url));

/** What one hop of the chain runs on: `node` and `python` as dbgrelay's own processes do, `socat` in C. */
export type HopRuntime = 'node' | 'python' | 'socat';

/**
 * The three hops of dbgrelay's topology, outermost first: the one `dbgrelay attach`
 * stands for (TCP in, TLS out), the relay's (TLS in, TLS out) and the agent bridge's
 * (TLS in, TCP out).
 */
export interface HopRuntimes {
  readonly attach: 'node' | 'socat';
  readonly relay: 'node' | 'socat';
  readonly bridge: 'python' | 'socat';
}

/** Bare byte pipes in dbgrelay's topology, each hop its own process, no DAP, no authentication. */
export interface HopChain {
  /** Where a client connects: the outermost hop's TCP port. */
  readonly localPort: number;
  /** Kills every hop's process. */
  stop(): void;
}

type Leg = 'tcp' | 'tls';

/**
 * Client → attach hop → relay hop → bridge hop → `127.0.0.1:targetPort`, with TLS
 * where dbgrelay has it and TCP_NODELAY on every leg; each hop runs on the runtime
 * `runtimes` names. All `node`/`python` is the floor of dbgrelay's own processes,
 * all `socat` the same hops in the runtime `ssh -L` is written in, and mixing them
 * shows what each hop's runtime costs.
 */
export async function startHopChain(runtimes: HopRuntimes, targetPort: number): Promise<HopChain> {
  const certs = testCertificates('hop-chain');
  const children: ChildProcess[] = [];
  const stop = (): void => {
    for (const child of children) child.kill();
  };
  try {
    const start = async (runtime: HopRuntime, listen: Leg, connect: Leg, port: number): Promise<number> => {
      const hop = await startHop(runtime, listen, connect, certs, port);
      children.push(hop.child);
      return hop.port;
    };
    const bridge = await start(runtimes.bridge, 'tls', 'tcp', targetPort);
    const relay = await start(runtimes.relay, 'tls', 'tls', bridge);
    const attach = await start(runtimes.attach, 'tcp', 'tls', relay);
    return { localPort: attach, stop };
  } catch (error) {
    stop();
    throw error;
  }
}

/**
 * One bare Node.js pipe hop (nodePipe.ts) as its own process: `tcp` or `tls` in, TLS
 * out to `127.0.0.1:targetPort` (trusting `certs.caFile`).
 */
export function startNodePipe(mode: Leg, certs: TestCertificates, targetPort: number): ReturnType<typeof spawnListening> {
  const args = ['--import', 'tsx', join(here, 'nodePipe.ts'), mode, certs.caFile, certs.chainFile, certs.keyFile, String(targetPort)];
  return spawnListening(process.execPath, args, /LISTENING (\d+)/);
}

async function startHop(runtime: HopRuntime, listen: Leg, connect: Leg, certs: TestCertificates, targetPort: number): Promise<{ child: ChildProcess; port: number }> {
  // HopRuntimes already allows only these pairs; this says so if a new chain asks for another
  const unsupported = (): Error => new Error(`no ${runtime} hop from ${listen} to ${connect}`);
  switch (runtime) {
    case 'node':
      if (connect !== 'tls') throw unsupported();
      return startNodePipe(listen, certs, targetPort);
    case 'python':
      if (listen !== 'tls' || connect !== 'tcp') throw unsupported();
      return spawnListening(venvPython, [join(here, 'pyPipe.py'), certs.chainFile, certs.keyFile, String(targetPort)], /LISTENING (\d+)/);
    case 'socat':
      return startSocatHop(listen, connect, certs, targetPort);
  }
}

async function startSocatHop(listen: Leg, connect: Leg, certs: TestCertificates, targetPort: number): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const listenAddress =
    listen === 'tcp'
      ? `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,nodelay`
      : `OPENSSL-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,nodelay,cert=${certs.chainFile},key=${certs.keyFile},verify=0`;
  const connectAddress = connect === 'tcp' ? `TCP:127.0.0.1:${targetPort},nodelay` : `OPENSSL:127.0.0.1:${targetPort},nodelay,cafile=${certs.caFile},commonname=localhost`;
  const child = spawn('socat', [listenAddress, connectAddress], { stdio: 'ignore' });
  try {
    await waitForPort(port);
  } catch (error) {
    child.kill();
    throw error;
  }
  return { child, port };
}
