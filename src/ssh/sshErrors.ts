import { RelayError } from '../common/relayError.js';

/** An ssh2 client error: `level` says which stage failed. */
type Ssh2Error = Error & { level?: string; code?: string };

/**
 * The {@link RelayError} for an ssh2 error on the connection to `hostLabel`
 * (`user@host:port`): `SSH_AUTH_FAILED` when every configured method was refused or
 * the agent failed, else `SSH_UNREACHABLE` (socket, DNS, timeout, protocol).
 */
export function sshConnectError(error: Ssh2Error, hostLabel: string, details: { identity: string; readyTimeoutMs: number }): RelayError {
  switch (error.level) {
    case 'client-authentication':
      return new RelayError('SSH_AUTH_FAILED', `ssh authentication as ${hostLabel} failed (the host refused ${details.identity})`);
    case 'agent':
      return new RelayError('SSH_AUTH_FAILED', `ssh authentication as ${hostLabel} failed: the ssh-agent could not be used (${error.message})`);
    case 'client-timeout':
      return new RelayError(
        'SSH_UNREACHABLE',
        /keepalive/i.test(error.message)
          ? `ssh connection to ${hostLabel} stopped answering keepalives`
          : `ssh host ${hostLabel} did not complete the handshake and authentication within ${details.readyTimeoutMs} ms (ssh.readyTimeoutMs)`,
      );
    case 'client-socket':
    case 'client-dns':
      return new RelayError('SSH_UNREACHABLE', `ssh host ${hostLabel} is not reachable (${error.code ?? error.message})`);
    default:
      return new RelayError('SSH_UNREACHABLE', `ssh connection to ${hostLabel} failed (${error.message})`);
  }
}

/** The {@link RelayError} for a `direct-tcpip` channel that `via` could not open to `destination`. */
export function forwardError(error: Error, via: string, destination: string, what: 'debugpy' | 'jump host'): RelayError {
  if (what === 'jump host') {
    return new RelayError('SSH_UNREACHABLE', `jump host ${via} could not connect to ${destination} (${error.message})`);
  }
  return new RelayError('AGENT_OPEN_FAILED', `debugpy at ${destination} is not reachable through ssh ${via} (${error.message})`);
}
