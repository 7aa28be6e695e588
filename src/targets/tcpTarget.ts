import { connect } from 'node:net';
import { RelayError } from '../common/relayError.js';
import { SocketTransport } from '../transport/socketTransport.js';
import type { Transport } from '../transport/transport.js';

/**
 * Dials debugpy's adapter at `host:port` over plain TCP (a `tcp://` sidecar target:
 * debugpy listening on loopback in the relay's own host or pod). Rejects with
 * `AGENT_OPEN_FAILED` naming the address and the socket error.
 */
export function dialTcpAdapter(host: string, port: number, signal: AbortSignal): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true });
    const onAbort = (): void => {
      socket.destroy();
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners('error');
      resolve(new SocketTransport(socket, 'tcp'));
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      signal.removeEventListener('abort', onAbort);
      reject(new RelayError('AGENT_OPEN_FAILED', `debugpy at ${host}:${port} is not reachable (${error.code ?? error.message})`));
    });
  });
}
