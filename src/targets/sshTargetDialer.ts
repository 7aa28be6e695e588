import type { RelayConfig } from '../config/configSchema.js';
import { defaultDebugpyAddress, parseDebugpyAddress, type SshTargetOptions } from '../config/sshTargetConfigSchema.js';
import { RelayError } from '../common/relayError.js';
import { tagged } from '../log/logger.js';
import type { SchemeDialerFactory } from './schemeDialer.js';
import { StreamTransport } from '../transport/streamTransport.js';
import { buildJumpChain } from '../ssh/jumpChain.js';
import { SshConnectionPool } from '../ssh/sshConnectionPool.js';
import { hostPort } from '../common/hostPort.js';

/**
 * One pool per relay configuration, so that the targets of one relay share SSH
 * connections (several targets on one host, one bastion for many hosts) while two
 * relays in one process (tests) never do. It closes its connections when the last
 * target releases it.
 */
const pools = new WeakMap<RelayConfig, SshConnectionPool>();

/**
 * `ssh://user@host[:port]` targets: the relay opens a `direct-tcpip` channel to the
 * host's debugpy (`targets.<name>.debugpy`, default `127.0.0.1:5678`) over a pooled,
 * verified SSH connection, through the `ssh.jump` hosts if any. No shell, no remote
 * command. Throws `CONFIG_INVALID` naming the key when the credential or options are
 * unusable at start.
 */
export const sshTargetDialer: SchemeDialerFactory = ({ name, config, url, relayConfig, logger, metrics }) => {
  const keyPrefix = `targets.${name}.ssh`;
  const options = config.ssh as SshTargetOptions | undefined;
  if (options === undefined) throw new RelayError('CONFIG_INVALID', `${keyPrefix}: required for ssh:// targets`);
  if (url.userInfo === undefined) throw new RelayError('CONFIG_INVALID', `targets.${name}.url: expected a user: ssh://USER@host[:port]`);
  const debugpy = parseDebugpyAddress(config.debugpy ?? defaultDebugpyAddress);
  if (typeof debugpy === 'string') throw new RelayError('CONFIG_INVALID', `targets.${name}.debugpy: ${debugpy}`);
  const host = url.host.startsWith('[') ? url.host.slice(1, -1) : url.host;
  const chain = buildJumpChain({ user: url.userInfo, host, port: url.port ?? 22 }, options, keyPrefix);
  let pool = pools.get(relayConfig);
  if (!pool) {
    pool = new SshConnectionPool({ logger: tagged(logger, 'ssh'), ...(metrics ? { metrics: metrics.ssh } : {}) });
    pools.set(relayConfig, pool);
  }
  const sharedPool = pool;
  const release = sharedPool.retain();
  const target = chain[chain.length - 1]!;
  const debugpyLabel = hostPort(debugpy.host, debugpy.port);
  const via = chain
    .slice(0, -1)
    .map((hop) => ` via ssh://${hop.label}`)
    .join('');
  return {
    dial: async (signal) => {
      const channel = await sharedPool.openChannel(chain, debugpy, signal);
      return new StreamTransport(channel, 'ssh', `ssh:${target.label}→${debugpyLabel}`);
    },
    describe: { host, transport: 'ssh', address: `ssh://${target.label}${via} → ${debugpyLabel}` },
    close: release,
  };
};
