import { randomBytes } from 'node:crypto';
import type { Logger } from '../log/logger.js';
import { printable } from '../common/printable.js';
import { hostPort } from '../common/hostPort.js';

/** How an SSH connection ended, the `outcome` of its log line. */
export type SshConnectionOutcome =
  /** Authenticated and later closed (by the client, a keepalive timeout or the relay stopping). */
  | 'closed'
  /** Never authenticated: no offered key was authorized or no signature verified. */
  | 'auth-failed'
  | 'auth-timeout'
  | 'too-many-auth-attempts'
  /** Closed before authentication was attempted (scanner, protocol error). */
  | 'no-auth'
  | 'refused-max-connections'
  /** Dropped at accept by `sshServer.maxStartups` (too many connections not yet authenticated). */
  | 'refused-max-startups';

/** Bound on the fingerprints of refused keys kept for the log line. */
const maxOfferedKeys = 8;

/** Cuts remote-supplied text (user names, bind addresses) for logs. */
export function logText(text: string, max = 100): string {
  const shown = printable(text);
  return shown.length > max ? `${shown.slice(0, max)}…` : shown;
}

/**
 * What one SSH connection did, written as exactly one log line (tag `ssh`,
 * `ssh connection`) when it ends: peer, user name, the key fingerprint it
 * authenticated with (or the fingerprints it offered in vain), the targets it
 * registered, refusals, duration and outcome. Never key material.
 */
export class ConnectionRecord {
  readonly id = randomBytes(6).toString('hex');
  private readonly startedAt = Date.now();
  user: string | undefined;
  key: { readonly fingerprint: string; readonly comment: string; readonly line: number } | undefined;
  readonly offeredKeys: string[] = [];
  readonly targets: string[] = [];
  refusals = 0;
  endReason: SshConnectionOutcome | undefined;
  error: string | undefined;
  private finished = false;

  /** `ip:port` of the peer (IPv6 in brackets), for logs. */
  readonly remote: string;

  constructor(
    /** The peer's IP address (an IPv4-mapped IPv6 address as plain IPv4). */
    readonly ip: string,
    port: number,
    private readonly logger: Logger,
  ) {
    this.remote = hostPort(ip, port);
  }

  /** Remembers a key that was offered and not accepted. */
  offered(fingerprint: string): void {
    if (!this.offeredKeys.includes(fingerprint) && this.offeredKeys.length < maxOfferedKeys) this.offeredKeys.push(fingerprint);
  }

  /** Writes the line (once). */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    const outcome = this.endReason ?? (this.key ? 'closed' : this.offeredKeys.length > 0 ? 'auth-failed' : 'no-auth');
    const fields = {
      connection: this.id,
      remote: this.remote,
      ...(this.user !== undefined ? { user: this.user } : {}),
      ...(this.key ? { key: this.key.fingerprint, keyComment: logText(this.key.comment), keyLine: this.key.line } : {}),
      ...(this.offeredKeys.length > 0 && !this.key ? { offeredKeys: this.offeredKeys } : {}),
      targets: this.targets,
      refusals: this.refusals,
      durationMs: Date.now() - this.startedAt,
      outcome,
      ...(this.error !== undefined ? { error: this.error } : {}),
    };
    if (outcome === 'closed') this.logger.info(fields, 'ssh connection');
    // A flood is dropped at accept by the thousand: counted in a metric, logged at debug only.
    else if (outcome === 'refused-max-startups') this.logger.debug(fields, 'ssh connection');
    else this.logger.warn(fields, 'ssh connection');
  }
}
