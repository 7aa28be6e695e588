import type { Connection } from 'ssh2';
import { RelayError } from '../common/relayError.js';
import { StreamTransport } from '../transport/streamTransport.js';
import type { Transport } from '../transport/transport.js';

/** The remote forward a channel is opened for: what the client asked to be bound. */
export interface RemoteForward {
  /** The bind address of the `tcpip-forward` request: the target name. */
  readonly bindAddr: string;
  /** The port the relay confirmed (the requested one, or the one it allotted for 0). */
  readonly bindPort: number;
}

/**
 * Opens a `forwarded-tcpip` channel (RFC 4254 §7.2) on `connection` for `forward`:
 * the `ssh -R` client connects it to its local debugpy and the channel carries one
 * DAP session. The originator is given as 127.0.0.1:0: the relay, not a real peer.
 * Rejects with `AGENT_OPEN_FAILED` (the client could not connect, e.g. debugpy is
 * not listening) or the abort reason; a channel that opens after an abort is closed.
 */
export function openForwardedChannel(connection: Connection, forward: RemoteForward, label: string, signal: AbortSignal): Promise<Transport> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      connection.forwardOut(forward.bindAddr, forward.bindPort, '127.0.0.1', 0, (error, channel) => {
        signal.removeEventListener('abort', onAbort);
        if (settled) {
          channel?.close();
          return;
        }
        settled = true;
        if (error) {
          reject(new RelayError('AGENT_OPEN_FAILED', `the ssh -R client of ${forward.bindAddr} could not connect to its debugpy (${error.message})`));
          return;
        }
        resolve(new StreamTransport(channel, 'ssh', label));
      });
    } catch (error) {
      signal.removeEventListener('abort', onAbort);
      settled = true;
      reject(new RelayError('AGENT_OPEN_FAILED', `the ssh -R connection of ${forward.bindAddr} is gone (${(error as Error).message})`));
    }
  });
}
