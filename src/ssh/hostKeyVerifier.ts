import { readFileSync } from 'node:fs';
import { RelayError } from '../common/relayError.js';
import { entriesFor, parseKnownHosts, type KnownHostEntry } from './knownHosts.js';
import { describeHostKey, sshFingerprint, sshKeyType } from './sshKeyFingerprint.js';

/** Where the accepted host keys of one SSH host come from (`knownHostsFile` or `hostKey`). */
export type HostKeySource = { readonly kind: 'knownHosts'; readonly file: string } | { readonly kind: 'pinned'; readonly fingerprints: readonly string[] };

/** Host key algorithms ssh2 negotiates by default, in its order. */
const defaultAlgorithms = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

/** Signature algorithms that a key of each type can serve (RFC 8332 for RSA). */
function algorithmsOfKeyType(keyType: string): string[] {
  return keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType];
}

/**
 * The host key check of one connection to `host:port`. For a `known_hosts` source the
 * file is read when the check is prepared (so an edited file applies to the next
 * connection, as with OpenSSH). Refusals are {@link RelayError}s whose message names
 * the host and the offered key's `SHA256:` fingerprint:
 * `SSH_HOST_KEY_UNKNOWN` (no entry for the host, or none of the offered type) and
 * `SSH_HOST_KEY_CHANGED` (an entry of that type with another key, a mismatching
 * pin, or a key marked `@revoked`).
 */
export class HostKeyCheck {
  private readonly entries: KnownHostEntry[];

  private constructor(
    private readonly source: HostKeySource,
    private readonly hostLabel: string,
    entries: KnownHostEntry[],
  ) {
    this.entries = entries;
  }

  /** Prepares the check for one connection; throws `SSH_HOST_KEY_UNKNOWN` when the known_hosts file cannot be read. */
  static prepare(source: HostKeySource, host: string, port: number, hostLabel: string): HostKeyCheck {
    if (source.kind === 'pinned') return new HostKeyCheck(source, hostLabel, []);
    let text: string;
    try {
      text = readFileSync(source.file, 'utf8');
    } catch (error) {
      throw new RelayError('SSH_HOST_KEY_UNKNOWN', `cannot read the known_hosts file ${source.file} (${(error as NodeJS.ErrnoException).code ?? 'error'}) to verify ${hostLabel}`);
    }
    return new HostKeyCheck(source, hostLabel, entriesFor(parseKnownHosts(text), host, port));
  }

  /**
   * Host key algorithms to offer, those of the known keys first (as OpenSSH does), so
   * that a host with several keys presents the one on record. `undefined`: ssh2's default.
   */
  preferredAlgorithms(): string[] | undefined {
    const known = [...new Set(this.entries.filter((e) => e.marker === undefined).flatMap((e) => algorithmsOfKeyType(e.keyType)))];
    if (known.length === 0) return undefined;
    return [...known, ...defaultAlgorithms.filter((a) => !known.includes(a))];
  }

  /** `undefined` when `keyBlob` is accepted, else the refusal. */
  verify(keyBlob: Buffer): RelayError | undefined {
    const offered = describeHostKey(keyBlob);
    if (this.source.kind === 'pinned') {
      if (this.source.fingerprints.includes(sshFingerprint(keyBlob))) return undefined;
      return new RelayError('SSH_HOST_KEY_CHANGED', `host key of ${this.hostLabel} does not match the pinned ssh.hostKey (offered ${offered}); refusing to connect`);
    }
    const file = this.source.file;
    const keyType = sshKeyType(keyBlob);
    if (this.entries.some((e) => e.marker === 'revoked' && e.key.equals(keyBlob))) {
      return new RelayError('SSH_HOST_KEY_CHANGED', `host key of ${this.hostLabel} is marked @revoked in ${file} (offered ${offered}); refusing to connect`);
    }
    const plain = this.entries.filter((e) => e.marker === undefined);
    if (plain.some((e) => e.key.equals(keyBlob))) return undefined;
    const sameType = plain.filter((e) => e.keyType === keyType);
    if (sameType.length > 0) {
      return new RelayError(
        'SSH_HOST_KEY_CHANGED',
        `host key of ${this.hostLabel} changed (offered ${offered}; ${file} line ${sameType.map((e) => e.line).join(', ')} has another ${keyType} key): ` +
          'possible man-in-the-middle attack, refusing to connect; if the host really got a new key, replace its entry',
      );
    }
    const otherTypes = [...new Set(plain.map((e) => e.keyType))];
    return new RelayError(
      'SSH_HOST_KEY_UNKNOWN',
      `host key of ${this.hostLabel} is not known (offered ${offered}; ${file} has ` +
        (otherTypes.length > 0 ? `only ${otherTypes.join(', ')} keys for it)` : 'no entry for it)') +
        '; after checking the fingerprint with the host owner, add it to the file (e.g. from ssh-keyscan)',
    );
  }
}
