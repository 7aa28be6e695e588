import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { Client, type ConnectConfig } from 'ssh2';
import { hostPort } from '../common/hostPort.js';
import { RelayError } from '../common/relayError.js';
import { HostKeyCheck, type HostKeySource } from './hostKeyVerifier.js';
import type { SshCredentialSource } from './sshAuth.js';
import { sshConnectError } from './sshErrors.js';

/** Everything needed to open one SSH connection: the target host, or one jump host. */
export interface SshHopSpec {
  readonly user: string;
  /** Without IPv6 brackets. */
  readonly host: string;
  readonly port: number;
  /** `user@host:port`, for messages and logs. */
  readonly label: string;
  readonly credential: SshCredentialSource;
  readonly hostKeys: HostKeySource;
  readonly keepaliveIntervalMs: number;
  readonly keepaliveCountMax: number;
  readonly readyTimeoutMs: number;
  /** A connection with no channel open is closed after this long (`0`: kept). */
  readonly idleTimeoutMs: number;
  /** Identity of this hop for connection sharing: every setting above, no secret. */
  readonly key: string;
}

/** Opens one SSH connection; resolves once authenticated. See {@link connectHop}. */
export type HopConnector = (spec: SshHopSpec, sock: Duplex | undefined) => Promise<Client>;

/**
 * Opens an SSH connection to `spec`'s host: over a new TCP connection (with
 * `TCP_NODELAY`), or over `sock`, a channel of the jump host before it. Verifies the
 * host key ({@link HostKeyCheck}), authenticates with the hop's credential, and
 * resolves with the ready client (which keeps an `error` listener, so a later failure
 * never goes unhandled). Rejects with `SSH_HOST_KEY_UNKNOWN`, `SSH_HOST_KEY_CHANGED`,
 * `SSH_AUTH_FAILED` or `SSH_UNREACHABLE`; bounded by `readyTimeoutMs`.
 */
export const connectHop: HopConnector = (spec, sock) => {
  let check: HostKeyCheck;
  let credential;
  try {
    check = HostKeyCheck.prepare(spec.hostKeys, spec.host, spec.port, hostPort(spec.host, spec.port));
    credential = spec.credential.load();
  } catch (error) {
    sock?.destroy();
    return Promise.reject(error as Error);
  }
  return new Promise<Client>((resolve, reject) => {
    const client = new Client();
    let refusal: RelayError | undefined;
    let settled = false;
    const fail = (error: RelayError): void => {
      if (settled) return;
      settled = true;
      client.end();
      socket.destroy();
      reject(error);
    };
    client.on('error', (error: Error & { level?: string }) =>
      fail(refusal ?? sshConnectError(error, spec.label, { identity: spec.credential.identity, readyTimeoutMs: spec.readyTimeoutMs })),
    );
    client.once('ready', () => {
      settled = true;
      resolve(client);
    });
    client.once('close', () => fail(refusal ?? new RelayError('SSH_UNREACHABLE', `ssh host ${spec.label} closed the connection before authentication completed`)));
    const socket: Duplex = sock ?? connect({ host: spec.host, port: spec.port, noDelay: true });
    const serverHostKey = check.preferredAlgorithms();
    const config: ConnectConfig = {
      sock: socket,
      host: spec.host,
      port: spec.port,
      username: spec.user,
      ...credential,
      hostVerifier: (key: Buffer) => {
        refusal = check.verify(key);
        return refusal === undefined;
      },
      keepaliveInterval: spec.keepaliveIntervalMs,
      keepaliveCountMax: spec.keepaliveCountMax,
      readyTimeout: spec.readyTimeoutMs,
      ...(serverHostKey ? { algorithms: { serverHostKey: serverHostKey as NonNullable<NonNullable<ConnectConfig['algorithms']>['serverHostKey']> } } : {}),
    };
    try {
      client.connect(config);
    } catch (error) {
      fail(new RelayError('SSH_AUTH_FAILED', `ssh connection to ${spec.label} not started (${(error as Error).message})`));
    }
  });
};
