import { z } from 'zod';
import { intBetween, nonEmptyString } from './schemaFields.js';

/**
 * Schema of `sshServer` (docs/operations.md "SSH reverse forwards (ssh -R)"): the
 * relay's built-in SSH server, where a host that has only OpenSSH and debugpy
 * registers a target with `ssh -N -R <target>:0:127.0.0.1:<debugpy port>`. Only
 * public-key authentication against `authorizedKeysFile`, only `tcpip-forward`.
 */
export const sshServerConfigSchema = z
  .strictObject(
    {
      enabled: z.boolean({ error: 'expected true or false' }),
      host: nonEmptyString,
      port: intBetween(0, 65535),
      /** Host key (OpenSSH or PEM private key); unset: `<dataDir>/ssh_host_ed25519_key`, created (0600) when missing. */
      hostKeyFile: nonEmptyString.optional(),
      /** Keys that may connect, each with the target names it may register (required when enabled). */
      authorizedKeysFile: nonEmptyString.optional(),
      /** Authenticated SSH connections open at once; one more is closed right after it authenticated. */
      maxConnections: intBetween(1, 100_000),
      /**
       * Connections not yet authenticated, as OpenSSH's `MaxStartups start:rate:full`:
       * below `start` accepted, from `start` dropped at accept with probability rising
       * linearly from `rate`% to 100% at `full`, from `full` on all dropped.
       */
      maxStartups: z.strictObject(
        { start: intBetween(1, 100_000), rate: intBetween(1, 100), full: intBetween(1, 100_000) },
        { error: 'expected a mapping with start, rate and full' },
      ),
      /** Connections not yet authenticated from one IPv4 address or IPv6 /64; more are dropped at accept. */
      maxStartupsPerSource: intBetween(1, 100_000),
      /** Time from TCP accept to successful authentication. */
      authTimeoutMs: intBetween(1, 600_000),
      /** Authentication requests per connection (a public-key query counts as one). */
      maxAuthAttempts: intBetween(1, 100),
      /** Remote forwards (targets) one connection may hold. */
      maxForwardsPerConnection: intBetween(1, 1_000),
      /** Period of the SSH keepalive the relay sends (`keepalive@openssh.com`). */
      keepaliveIntervalMs: intBetween(1_000, 3_600_000),
      /** Unanswered keepalives after which the connection (and its targets) is dropped. */
      keepaliveCountMax: intBetween(1, 100),
    },
    { error: 'expected a mapping' },
  )
  .superRefine((ssh, ctx) => {
    if (ssh.maxStartups.full < ssh.maxStartups.start) {
      ctx.addIssue({ code: 'custom', path: ['maxStartups', 'full'], message: 'must be at least maxStartups.start' });
    }
    if (ssh.enabled && ssh.authorizedKeysFile === undefined) {
      ctx.addIssue({ code: 'custom', path: ['authorizedKeysFile'], message: 'required when sshServer.enabled is true' });
    }
  });

/** The validated `sshServer` section. */
export type SshServerConfig = Readonly<z.infer<typeof sshServerConfigSchema>>;

/** File name of the generated host key inside the data directory. */
export const defaultHostKeyFileName = 'ssh_host_ed25519_key';

/** Built-in defaults of `sshServer` (merged into configDefaults). Off by default. */
export function sshServerConfigDefaults(): Record<string, unknown> {
  return {
    sshServer: {
      enabled: false,
      host: '127.0.0.1',
      port: 2222,
      maxConnections: 64,
      maxStartups: { start: 10, rate: 30, full: 60 },
      maxStartupsPerSource: 8,
      authTimeoutMs: 20_000,
      maxAuthAttempts: 6,
      maxForwardsPerConnection: 16,
      keepaliveIntervalMs: 15_000,
      keepaliveCountMax: 3,
    },
  };
}
