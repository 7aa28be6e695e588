import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import { RelayError } from '../common/relayError.js';

/** What ssh2 needs to authenticate one connection. Never logged: it holds key material. */
export interface SshCredential {
  readonly privateKey?: Buffer;
  readonly passphrase?: string;
  /** ssh-agent socket path. */
  readonly agent?: string;
}

/** How a hop authenticates, as configured (`identityFile`, `passphraseEnv`/`passphraseFile`, `agent`). */
export interface SshAuthOptions {
  readonly identityFile?: string | undefined;
  readonly passphraseEnv?: string | undefined;
  readonly passphraseFile?: string | undefined;
  readonly agent?: boolean | string | undefined;
}

/**
 * The credential of one SSH hop. Built at start, where every problem is a
 * `CONFIG_INVALID` naming the key (`keyPrefix`, e.g. `targets.db-1.ssh`); the key file
 * and passphrase are read again for each new connection, so a rotated key applies
 * without a restart (a failure then is `SSH_AUTH_FAILED`). Messages name files and
 * variables, never their contents.
 */
export class SshCredentialSource {
  /** `key /path/id_ed25519, agent /run/agent.sock`: what the credential is, for pool keys and messages. */
  readonly identity: string;
  private readonly agentSocket: string | undefined;

  constructor(
    private readonly options: SshAuthOptions,
    private readonly keyPrefix: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    if (options.agent === true) {
      const socket = env['SSH_AUTH_SOCK'];
      if (socket === undefined || socket === '') {
        throw new RelayError('CONFIG_INVALID', `${keyPrefix}.agent: true needs SSH_AUTH_SOCK in the relay's environment (or give the agent socket path)`);
      }
      this.agentSocket = socket;
    } else if (typeof options.agent === 'string') {
      this.agentSocket = options.agent;
    }
    this.identity = [options.identityFile !== undefined ? `key ${options.identityFile}` : undefined, this.agentSocket !== undefined ? `agent ${this.agentSocket}` : undefined]
      .filter((part) => part !== undefined)
      .join(', ');
    try {
      this.load();
    } catch (error) {
      throw new RelayError('CONFIG_INVALID', (error as RelayError).message);
    }
  }

  /** Reads the key (and its passphrase) for a new connection; throws `SSH_AUTH_FAILED` naming the key that is unusable. */
  load(): SshCredential {
    const { identityFile, passphraseEnv, passphraseFile } = this.options;
    const agent = this.agentSocket !== undefined ? { agent: this.agentSocket } : {};
    if (identityFile === undefined) return agent;
    let privateKey: Buffer;
    try {
      privateKey = readFileSync(identityFile);
    } catch (error) {
      throw new RelayError('SSH_AUTH_FAILED', `${this.keyPrefix}.identityFile: cannot read ${identityFile} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    let passphrase: string | undefined;
    if (passphraseEnv !== undefined) {
      passphrase = this.env[passphraseEnv];
      if (passphrase === undefined) throw new RelayError('SSH_AUTH_FAILED', `${this.keyPrefix}.passphraseEnv: ${passphraseEnv} is not set in the relay's environment`);
    } else if (passphraseFile !== undefined) {
      try {
        passphrase = readFileSync(passphraseFile, 'utf8').split(/\r?\n/)[0]!;
      } catch (error) {
        throw new RelayError('SSH_AUTH_FAILED', `${this.keyPrefix}.passphraseFile: cannot read ${passphraseFile} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    const parsed = ssh2.utils.parseKey(privateKey, passphrase);
    if (parsed instanceof Error) {
      // ssh2's messages say what is wrong (encrypted without passphrase, bad passphrase, unsupported format) and quote no key material.
      throw new RelayError('SSH_AUTH_FAILED', `${this.keyPrefix}.identityFile: ${identityFile} is not a usable private key (${parsed.message})`);
    }
    if ((Array.isArray(parsed) ? parsed[0] : parsed)?.isPrivateKey() !== true) {
      throw new RelayError('SSH_AUTH_FAILED', `${this.keyPrefix}.identityFile: ${identityFile} holds no private key`);
    }
    return { privateKey, ...(passphrase !== undefined ? { passphrase } : {}), ...agent };
  }
}
