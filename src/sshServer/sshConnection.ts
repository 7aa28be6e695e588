import type { AuthContext, Connection, TcpipBindInfo } from 'ssh2';
import type { SshServerConfig } from '../config/sshServerConfigSchema.js';
import type { Logger } from '../log/logger.js';
import type { SshMetrics } from '../metrics/agentMetrics.js';
import type { AuthorizedKeysFile } from './authorizedKeysFile.js';
import type { AuthorizedKey } from './authorizedKeys.js';
import { logText, type ConnectionRecord } from './connectionRecord.js';
import { checkForwardName } from './forwardName.js';
import { sshFingerprint } from '../ssh/sshKeyFingerprint.js';
import type { ReverseForwards } from './reverseForwards.js';
import { refuseSession } from './sessionRefusal.js';

/** What every SSH connection shares. */
export interface SshConnectionContext {
  readonly config: SshServerConfig;
  readonly authorizedKeys: AuthorizedKeysFile;
  readonly forwards: ReverseForwards;
  /** Logger tagged `ssh`. */
  readonly logger: Logger;
  readonly metrics: SshMetrics;
}

/** First port handed out for `-R name:0:…` forwards (the relay binds nothing; the number only pairs channels with forwards). */
const firstAllottedPort = 49_152;

/** Sessions a connection may have open at once only to read the refusal text. */
const maxRefusedSessions = 2;

interface ActiveForward {
  readonly name: string;
  readonly bindPort: number;
  readonly release: () => boolean;
}

/**
 * Serves one SSH connection: public-key authentication against the authorized keys
 * (any user name), then only `tcpip-forward` requests for target names the key
 * permits, each registered as an `ssh-reverse` target until the forward is cancelled
 * or the connection closes. Sessions, `direct-tcpip` and stream-local requests are
 * refused. `onAuthenticated` is called once authentication succeeded; when it answers
 * false (no room for another authenticated connection) the connection is ended.
 */
export function serveSshConnection(client: Connection, record: ConnectionRecord, context: SshConnectionContext, onAuthenticated: () => boolean): void {
  const { config, logger } = context;
  const log = logger.child({ connection: record.id });
  let attempts = 0;
  let key: AuthorizedKey | undefined;
  let releaseMetric: (() => void) | undefined;
  let nextPort = firstAllottedPort;
  let refusedSessions = 0;
  const forwards: ActiveForward[] = [];

  client.on('authentication', (ctx: AuthContext) => {
    record.user = logText(ctx.username, 64);
    if (ctx.method === 'none') return ctx.reject(['publickey']);
    attempts += 1;
    if (attempts > config.maxAuthAttempts) {
      record.endReason = 'too-many-auth-attempts';
      ctx.reject([]);
      client.end();
      return;
    }
    if (ctx.method !== 'publickey') return ctx.reject(['publickey']);
    const authorized = context.authorizedKeys.current().find(ctx.key.data);
    if (!authorized) {
      record.offered(sshFingerprint(ctx.key.data));
      return ctx.reject(['publickey']);
    }
    // Without a signature the client only asks whether the key would do (RFC 4252 §7).
    if (!ctx.signature) return ctx.accept();
    if (!ctx.blob || authorized.publicKey.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) {
      record.offered(authorized.fingerprint);
      return ctx.reject(['publickey']);
    }
    key = authorized;
    record.key = { fingerprint: authorized.fingerprint, comment: authorized.comment, line: authorized.line };
    ctx.accept();
  });

  client.on('ready', () => {
    if (!onAuthenticated()) {
      log.warn({ key: key?.fingerprint, maxConnections: config.maxConnections }, 'ssh connection refused: sshServer.maxConnections authenticated connections are open');
      client.end();
      return;
    }
    releaseMetric = context.metrics.opened();
    log.debug({ key: key?.fingerprint, user: record.user }, 'ssh client authenticated');
  });

  const refuseForward = (reason: string, bindAddr: string, reject: (() => void) | undefined): void => {
    record.refusals += 1;
    log.warn({ key: key?.fingerprint, target: logText(bindAddr), reason }, 'remote forward refused');
    reject?.();
  };

  const addForward = (info: TcpipBindInfo, accept: ((port?: number) => void) | undefined, reject: (() => void) | undefined): void => {
    if (!key) return reject?.();
    const checked = checkForwardName(info.bindAddr, key.targets);
    if (!checked.ok) return refuseForward(checked.reason, info.bindAddr, reject);
    if (forwards.length >= config.maxForwardsPerConnection) {
      return refuseForward(`at most ${config.maxForwardsPerConnection} forwards per connection (sshServer.maxForwardsPerConnection)`, info.bindAddr, reject);
    }
    const bindPort = info.bindPort === 0 ? nextPort++ : info.bindPort;
    const added = context.forwards.add(
      checked.name,
      { bindAddr: info.bindAddr, bindPort },
      {
        connectionId: record.id,
        connection: client,
        keyFingerprint: key.fingerprint,
        ip: record.ip,
      },
    );
    if (!added.ok) return refuseForward(added.reason, info.bindAddr, reject);
    forwards.push({ name: checked.name, bindPort, release: added.release });
    if (!record.targets.includes(checked.name)) record.targets.push(checked.name);
    accept?.(info.bindPort === 0 ? bindPort : undefined);
    log.info({ target: checked.name, key: key.fingerprint, remote: record.remote, replaced: added.replaced }, 'target registered (ssh -R)');
  };

  const cancelForward = (info: TcpipBindInfo, accept: (() => void) | undefined, reject: (() => void) | undefined): void => {
    const index = forwards.findIndex((forward) => forward.name === info.bindAddr && (info.bindPort === 0 || forward.bindPort === info.bindPort));
    if (index < 0) return reject?.();
    const [forward] = forwards.splice(index, 1);
    const removed = forward!.release();
    accept?.();
    log.info({ target: forward!.name, key: key?.fingerprint, removed }, 'target removed (forward cancelled)');
  };

  client.on('request', (accept, reject, name, info) => {
    if (name === 'tcpip-forward') return addForward(info as TcpipBindInfo, accept, reject);
    if (name === 'cancel-tcpip-forward') return cancelForward(info as TcpipBindInfo, accept as (() => void) | undefined, reject);
    record.refusals += 1;
    log.warn({ key: key?.fingerprint, request: name }, 'global request refused: only tcpip-forward is served');
    reject?.();
  });

  client.on('session', (accept, reject) => {
    record.refusals += 1;
    log.warn({ key: key?.fingerprint }, 'session channel refused: only remote forwards are served');
    if (refusedSessions >= maxRefusedSessions) return reject();
    refusedSessions += 1;
    refuseSession(accept);
  });
  client.on('tcpip', (_accept, reject, info) => {
    record.refusals += 1;
    log.warn({ key: key?.fingerprint, destination: logText(`${info.destIP}:${info.destPort}`) }, 'direct-tcpip refused: only remote forwards are served');
    reject();
  });
  client.on('openssh.streamlocal', (_accept, reject) => {
    record.refusals += 1;
    log.warn({ key: key?.fingerprint }, 'stream-local channel refused: only remote forwards are served');
    reject();
  });

  client.on('error', (error: Error & { level?: string }) => {
    record.error = logText(error.message, 200);
  });
  client.once('close', () => {
    for (const forward of forwards.splice(0)) {
      const removed = forward.release();
      log.info(
        { target: forward.name, key: key?.fingerprint, removed },
        removed ? 'target removed (ssh connection closed)' : 'forward ended (its target had been taken over by a newer connection with the same key)',
      );
    }
    releaseMetric?.();
    record.finish();
  });
}
