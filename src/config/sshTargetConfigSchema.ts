import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { intBetween, nonEmptyString } from './schemaFields.js';

/**
 * Options of SSH targets, `targets.<name>.ssh` (docs/operations.md "SSH targets"):
 * how the relay authenticates to the host (a private key, an ssh-agent), how it
 * verifies the host's key (a `known_hosts` file or a pinned fingerprint; there is no
 * "accept any key"), connection bounds, and the jump hosts on the way.
 */

/** `SHA256:` and 43 characters of unpadded base64, as `ssh-keygen -lf` and `ssh` print a key's fingerprint. */
export const sshFingerprintPattern = /^SHA256:[A-Za-z0-9+/]{43}$/;

const fingerprint = z
  .string({ error: 'expected a string' })
  .regex(sshFingerprintPattern, { error: 'expected a fingerprint such as SHA256:… (43 base64 characters, as ssh-keygen -lf prints it)' });

/** Default of `ssh.keepaliveIntervalMs`. */
export const defaultSshKeepaliveIntervalMs = 15_000;
/** Default of `ssh.keepaliveCountMax`. */
export const defaultSshKeepaliveCountMax = 3;
/** Default of `ssh.readyTimeoutMs`. */
export const defaultSshReadyTimeoutMs = 8_000;
/** Default of `ssh.idleTimeoutMs`. */
export const defaultSshIdleTimeoutMs = 300_000;

/** How the relay authenticates to one SSH host and checks its key (the target, or one jump host). */
const hopShape = {
  /** Private key file (OpenSSH, PEM or PuTTY format; may be encrypted). */
  identityFile: nonEmptyString.optional(),
  /** Environment variable holding the identity file's passphrase. */
  passphraseEnv: nonEmptyString.optional(),
  /** File holding the identity file's passphrase (first line). */
  passphraseFile: nonEmptyString.optional(),
  /** `true`: the ssh-agent at `$SSH_AUTH_SOCK`; a string: that agent socket. */
  agent: z.union([z.boolean(), nonEmptyString], { error: 'expected true, false or an agent socket path' }).optional(),
  /** OpenSSH `known_hosts` file the host's key must be in (plain, `[host]:port` and hashed entries). */
  knownHostsFile: nonEmptyString.optional(),
  /** Pinned host key fingerprint(s), `SHA256:…`. */
  hostKey: z.union([fingerprint, z.array(fingerprint, { error: 'expected a fingerprint or a list of them' }).min(1)]).optional(),
};

type HopOptions = { [K in keyof typeof hopShape]?: z.infer<(typeof hopShape)[K]> };

/** One jump host (`ProxyJump`): `ssh://user@host[:port]`, with its own key and host key source. */
const jumpHostSchema = z.strictObject({ url: nonEmptyString, ...hopShape }, { error: 'expected a mapping' }).superRefine((hop, ctx) => {
  const url = parseSshUrl(hop.url);
  if (typeof url === 'string') ctx.addIssue({ code: 'custom', path: ['url'], message: url });
  refineHop(hop, ctx);
});

/** `targets.<name>.ssh`. */
export const sshTargetOptionsSchema = z
  .strictObject(
    {
      ...hopShape,
      /** Keepalive period on an idle connection (`0`: off). */
      keepaliveIntervalMs: intBetween(0, 3_600_000).default(defaultSshKeepaliveIntervalMs),
      /** Unanswered keepalives after which the connection counts as dead. */
      keepaliveCountMax: intBetween(1, 100).default(defaultSshKeepaliveCountMax),
      /** Bound on TCP connect, key exchange and authentication of one connection (each hop). */
      readyTimeoutMs: intBetween(1, 600_000).default(defaultSshReadyTimeoutMs),
      /** A pooled connection with no channel open is closed after this long. */
      idleTimeoutMs: intBetween(0, 86_400_000).default(defaultSshIdleTimeoutMs),
      /** Jump hosts, outermost first (like `ssh -J a,b`). */
      jump: z.array(jumpHostSchema, { error: 'expected a list of jump hosts' }).max(8, { error: 'at most 8 jump hosts' }).default([]),
    },
    { error: 'expected a mapping' },
  )
  .superRefine((options, ctx) => refineHop(options, ctx));

/** `targets.<name>.ssh` after defaults. */
export type SshTargetOptions = z.infer<typeof sshTargetOptionsSchema>;
/** One entry of `ssh.jump`. */
export type SshJumpHostOptions = z.infer<typeof jumpHostSchema>;

function refineHop(hop: HopOptions, ctx: z.RefinementCtx): void {
  if (hop.knownHostsFile === undefined && hop.hostKey === undefined) {
    ctx.addIssue({ code: 'custom', path: ['knownHostsFile'], message: 'one of knownHostsFile or hostKey is required (host keys are always verified)' });
  }
  if (hop.knownHostsFile !== undefined && hop.hostKey !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['hostKey'], message: 'give either knownHostsFile or hostKey, not both' });
  }
  if (hop.identityFile === undefined && (hop.agent === undefined || hop.agent === false)) {
    ctx.addIssue({ code: 'custom', path: ['identityFile'], message: 'one of identityFile or agent is required' });
  }
  if (hop.passphraseEnv !== undefined && hop.passphraseFile !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['passphraseFile'], message: 'give either passphraseEnv or passphraseFile, not both' });
  }
  if (hop.identityFile === undefined && (hop.passphraseEnv !== undefined || hop.passphraseFile !== undefined)) {
    ctx.addIssue({ code: 'custom', path: [hop.passphraseEnv !== undefined ? 'passphraseEnv' : 'passphraseFile'], message: 'only with identityFile' });
  }
}

/** An `ssh://user@host[:port]` URL split into its parts. */
export interface SshUrl {
  readonly user: string;
  /** Without IPv6 brackets. */
  readonly host: string;
  readonly port: number;
}

/** Parses `ssh://user@host[:port]` (port 22 by default); returns a message (never quoting the URL) when it is not one. */
export function parseSshUrl(text: string): SshUrl | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'expected a URL such as ssh://user@host:22';
  }
  if (url.protocol !== 'ssh:') return 'expected an ssh:// URL';
  if (url.hostname === '') return 'expected a host';
  if (url.username === '') return 'expected a user: ssh://USER@host[:port]';
  if (url.password !== '') return 'expected no password in the URL (use identityFile or agent)';
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') return 'expected no path, query or fragment';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  let user: string;
  try {
    user = decodeURIComponent(url.username);
  } catch {
    // WHATWG URL keeps a `%` not followed by two hex digits; decoding it throws URIError.
    return 'expected a user with valid percent-encoding (RFC 3986 §2.1)';
  }
  return { user, host, port: url.port === '' ? 22 : Number(url.port) };
}

/** Where debugpy listens on the SSH host: `host:port` or `[v6]:port`. */
export interface DebugpyAddress {
  readonly host: string;
  readonly port: number;
}

/** Default of `targets.<name>.debugpy`. */
export const defaultDebugpyAddress = '127.0.0.1:5678';

/** Parses `targets.<name>.debugpy`; returns a message when it is not `host:port`. */
export function parseDebugpyAddress(text: string): DebugpyAddress | string {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port < 1 || port > 65535) return 'expected host:port, e.g. 127.0.0.1:5678';
  return { host: match[1] ?? match[2]!, port };
}

/** Path keys of one hop, resolved against the config file's directory. */
const hopPathKeys = ['identityFile', 'passphraseFile', 'knownHostsFile'] as const;

/**
 * Resolves the relative paths of every `targets.*.ssh` (and its jump hosts) in a
 * parsed config file against `base`, the file's directory, as for the other path keys.
 */
export function resolveSshTargetPaths(tree: Record<string, unknown>, base: string): void {
  const targets = tree['targets'];
  if (!isRecord(targets)) return;
  for (const target of Object.values(targets)) {
    if (!isRecord(target) || !isRecord(target['ssh'])) continue;
    const ssh = target['ssh'];
    const hops = [ssh, ...(Array.isArray(ssh['jump']) ? ssh['jump'].filter(isRecord) : [])];
    for (const hop of hops) {
      for (const key of hopPathKeys) {
        const value = hop[key];
        if (typeof value === 'string' && value !== '' && !isAbsolute(value)) hop[key] = resolve(base, value);
      }
      if (typeof hop['agent'] === 'string' && hop['agent'] !== '' && !isAbsolute(hop['agent'])) hop['agent'] = resolve(base, hop['agent']);
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
