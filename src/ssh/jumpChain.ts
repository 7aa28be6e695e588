import { accessSync, constants } from 'node:fs';
import { RelayError } from '../common/relayError.js';
import { parseSshUrl, type SshJumpHostOptions, type SshTargetOptions, type SshUrl } from '../config/sshTargetConfigSchema.js';
import type { HostKeySource } from './hostKeyVerifier.js';
import { SshCredentialSource } from './sshAuth.js';
import { hostPort } from '../common/hostPort.js';
import type { SshHopSpec } from './sshHop.js';

/** Options every hop of one target shares (the target's bounds). */
type ChainBounds = Pick<SshTargetOptions, 'keepaliveIntervalMs' | 'keepaliveCountMax' | 'readyTimeoutMs' | 'idleTimeoutMs'>;

/**
 * The hops from the relay to an SSH target, like OpenSSH's `ProxyJump`: every
 * `ssh.jump` entry in order, then the target itself. Each hop has its own
 * credential and host key source (nothing is inherited from the target); the
 * target's bounds apply to every hop. Throws `CONFIG_INVALID` naming the key
 * (`keyPrefix` is `targets.<name>.ssh`).
 */
export function buildJumpChain(target: SshUrl, options: SshTargetOptions, keyPrefix: string, env: NodeJS.ProcessEnv = process.env): SshHopSpec[] {
  const bounds: ChainBounds = {
    keepaliveIntervalMs: options.keepaliveIntervalMs,
    keepaliveCountMax: options.keepaliveCountMax,
    readyTimeoutMs: options.readyTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
  };
  const jumps = options.jump.map((hop: SshJumpHostOptions, index) => {
    const url = parseSshUrl(hop.url);
    if (typeof url === 'string') throw new RelayError('CONFIG_INVALID', `${keyPrefix}.jump.${index}.url: ${url}`);
    return hopSpec(url, hop, `${keyPrefix}.jump.${index}`, bounds, env);
  });
  return [...jumps, hopSpec(target, options, keyPrefix, bounds, env)];
}

function hopSpec(url: SshUrl, options: SshTargetOptions | SshJumpHostOptions, keyPrefix: string, bounds: ChainBounds, env: NodeJS.ProcessEnv): SshHopSpec {
  const credential = new SshCredentialSource(options, keyPrefix, env);
  if (options.knownHostsFile !== undefined) {
    try {
      accessSync(options.knownHostsFile, constants.R_OK); // read again for every connection; checked once at start
    } catch (error) {
      throw new RelayError('CONFIG_INVALID', `${keyPrefix}.knownHostsFile: cannot read ${options.knownHostsFile} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  const hostKeys: HostKeySource =
    options.knownHostsFile !== undefined
      ? { kind: 'knownHosts', file: options.knownHostsFile }
      : { kind: 'pinned', fingerprints: typeof options.hostKey === 'string' ? [options.hostKey] : [...(options.hostKey ?? [])] };
  const label = `${url.user}@${hostPort(url.host, url.port)}`;
  return {
    ...url,
    label,
    credential,
    hostKeys,
    ...bounds,
    key: JSON.stringify([label, credential.identity, hostKeys, bounds]),
  };
}
