import { spawn, type ChildProcess } from 'node:child_process';
import { testCertificates } from '../../test/helpers/testCertificates.js';
import { freePort, waitForPort } from './ports.js';

/** Bare TLS byte pipes in dbgrelay's topology, each hop a `socat` process (C, OpenSSL). */
export interface SocatTlsChain {
  readonly localPort: number;
  stop(): void;
}

/**
 * Client → (socat: TCP in, TLS out) → (socat: TLS in, TLS out) → (socat: TLS in, TCP
 * out) → `127.0.0.1:targetPort`: the hops of `dbgrelay attach`, the relay and the
 * agent's bridge with TLS where dbgrelay has it, in the runtime `ssh -L` and `socat`
 * are written in; against the Node/Python pipe chain it shows what the runtimes cost.
 * TCP_NODELAY on every leg.
 */
export async function startSocatTlsChain(targetPort: number): Promise<SocatTlsChain> {
  const certs = testCertificates('socat-chain');
  const children: ChildProcess[] = [];
  const hop = async (listen: 'tcp' | 'tls', connect: string): Promise<number> => {
    const port = await freePort();
    const listenAddress =
      listen === 'tcp'
        ? `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,nodelay`
        : `OPENSSL-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,nodelay,cert=${certs.chainFile},key=${certs.keyFile},verify=0`;
    children.push(spawn('socat', [listenAddress, connect], { stdio: 'ignore' }));
    await waitForPort(port);
    return port;
  };
  const tlsTo = (port: number): string => `OPENSSL:127.0.0.1:${port},nodelay,cafile=${certs.caFile},commonname=localhost`;
  const bridge = await hop('tls', `TCP:127.0.0.1:${targetPort},nodelay`);
  const relay = await hop('tls', tlsTo(bridge));
  const attach = await hop('tcp', tlsTo(relay));
  return { localPort: attach, stop: () => children.forEach((child) => child.kill()) };
}
