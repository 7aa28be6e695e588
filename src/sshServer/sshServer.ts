import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import ssh2, { type ClientInfo, type Connection } from 'ssh2';
import type { RelayConfig } from '../config/configSchema.js';
import { defaultHostKeyFileName } from '../config/sshServerConfigSchema.js';
import type { Logger } from '../log/logger.js';
import type { SshMetrics } from '../metrics/agentMetrics.js';
import type { SshServerMetrics } from '../metrics/sshServerMetrics.js';
import { closeServer, listen, type RunningListener } from '../net/serverSockets.js';
import type { TargetRegistry } from '../targets/targetRegistry.js';
import { AuthorizedKeysFile } from './authorizedKeysFile.js';
import { ConnectionRecord } from './connectionRecord.js';
import { ensureHostKey } from './hostKey.js';
import { ReverseForwards } from './reverseForwards.js';
import { SshAdmission, type SshStartup } from './sshAdmission.js';
import { serveSshConnection, type SshConnectionContext } from './sshConnection.js';

/** The running SSH server: a listener, plus the host key clients pin. */
export interface RunningSshServer extends RunningListener {
  readonly hostKey: {
    readonly file: string;
    readonly keyType: string;
    /** `SHA256:…` as `ssh` shows it. */
    readonly fingerprint: string;
    /** `ssh-ed25519 AAAA…`: with `[host]:port ` in front, a known_hosts line. */
    readonly publicKeyLine: string;
  };
}

/** What {@link startSshServer} needs of the relay. */
export interface SshServerDependencies {
  readonly registry: Pick<TargetRegistry, 'provide' | 'lookup'>;
  /** Logger tagged `ssh`. */
  readonly logger: Logger;
  readonly metrics: SshMetrics;
  /** Refusals and the unauthenticated gauge; uncounted when absent. */
  readonly serverMetrics?: SshServerMetrics;
  /** Random source of `sshServer.maxStartups` early drop, in [0, 1) (tests inject one). */
  readonly random?: () => number;
}

interface Accepted {
  readonly record: ConnectionRecord;
  readonly authTimer: NodeJS.Timeout;
  served: boolean;
  /** Its place under `maxStartups`, then `maxConnections`. */
  readonly startup: SshStartup;
}

/** An IPv4-mapped IPv6 address as plain IPv4. */
function plainIp(address: string | undefined): string {
  if (address === undefined) return '?';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * Starts the built-in SSH server of `config.sshServer` (docs/operations.md "SSH
 * reverse forwards (ssh -R)"): loads or creates the host key, reads the authorized
 * keys, and listens. Bounds: `maxStartups` on connections not yet authenticated
 * (random early drop at accept), `maxConnections` authenticated ones open at once
 * (checked at authentication), `authTimeoutMs` from accept to authentication
 * (a connection that never sends its banner included), `maxAuthAttempts`, keepalives every
 * `keepaliveIntervalMs` (`keepaliveCountMax` unanswered ones drop the connection
 * and its targets). Throws `CONFIG_INVALID` or the listen error.
 */
export async function startSshServer(config: RelayConfig, dependencies: SshServerDependencies): Promise<RunningSshServer> {
  const settings = config.sshServer;
  const { logger } = dependencies;
  const hostKeyFile = settings.hostKeyFile ?? join(config.dataDir, defaultHostKeyFileName);
  const hostKey = ensureHostKey(hostKeyFile);
  if (hostKey.created) logger.info({ hostKeyFile, fingerprint: hostKey.fingerprint }, 'created a new SSH host key');
  if (hostKey.looseFileMode) logger.warn({ hostKeyFile }, 'SSH host key file is readable by group or others; chmod 600 it');
  const context: SshConnectionContext = {
    config: settings,
    authorizedKeys: new AuthorizedKeysFile(settings.authorizedKeysFile!, logger),
    forwards: new ReverseForwards(dependencies.registry, { openTimeoutMs: config.limits.openTimeoutMs }),
    logger,
    metrics: dependencies.metrics,
  };

  const accepted = new Map<string, Accepted>();
  const admission = new SshAdmission(settings, dependencies.random, dependencies.serverMetrics);
  /** Open sockets and when each has closed (so that closing waits for every connection's log line). */
  const sockets = new Map<Socket, Promise<void>>();
  const ssh = new ssh2.Server({
    hostKeys: [hostKey.privateKey],
    ident: 'dbgrelay',
    keepaliveInterval: settings.keepaliveIntervalMs,
    keepaliveCountMax: settings.keepaliveCountMax,
  });
  ssh.on('connection', (client: Connection, info: ClientInfo) => {
    const entry = accepted.get(`${plainIp(info.ip)}|${info.port}`);
    if (!entry) {
      client.end();
      return;
    }
    entry.served = true;
    serveSshConnection(client, entry.record, context, () => {
      clearTimeout(entry.authTimer);
      if (entry.startup.authenticated()) return true;
      entry.record.endReason = 'refused-max-connections';
      return false;
    });
  });
  ssh.on('error', (error: Error) => logger.error({ error: error.message }, 'ssh server error'));

  const server = createServer((socket: Socket) => {
    const ip = plainIp(socket.remoteAddress);
    const port = socket.remotePort ?? 0;
    const record = new ConnectionRecord(ip, port, logger);
    socket.on('error', () => undefined); // ssh2 reports errors on the connection
    const startup = admission.admit(ip);
    if (!startup) {
      record.endReason = 'refused-max-startups';
      record.finish();
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true, settings.keepaliveIntervalMs);
    sockets.set(socket, new Promise((resolve) => socket.once('close', () => resolve())));
    // From accept: a connection that never sends its banner is closed too.
    const authTimer = setTimeout(() => {
      record.endReason = 'auth-timeout';
      socket.destroy();
    }, settings.authTimeoutMs);
    const key = `${ip}|${port}`;
    const entry: Accepted = { record, authTimer, served: false, startup };
    accepted.set(key, entry);
    socket.once('close', () => {
      sockets.delete(socket);
      clearTimeout(authTimer);
      accepted.delete(key);
      startup.closed();
      // A served connection writes its line once its forwards are released.
      if (!entry.served) record.finish();
    });
    ssh.injectSocket(socket);
  });
  const address = await listen(server, settings.host, settings.port, 'ssh', logger);
  return {
    address,
    hostKey: { file: hostKeyFile, keyType: hostKey.keyType, fingerprint: hostKey.fingerprint, publicKeyLine: hostKey.publicKeyLine },
    close: async () => {
      const closed = [closeServer(server), ...sockets.values()];
      for (const socket of sockets.keys()) socket.destroy();
      // Resolves after every socket's 'close' listeners ran, ssh2's included: forwards released, lines logged.
      await Promise.all(closed);
    },
  };
}
