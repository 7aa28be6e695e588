import { z } from 'zod';
import { nonEmptyString } from './schemaFields.js';
import { isLoopbackHost } from '../common/loopbackHost.js';
import { labelBytes, maxLabelBytes } from '../protocol/controlMessages.js';
import { plainTargetNamePattern } from '../protocol/targetName.js';
import { parseDebugpyAddress, sshTargetOptionsSchema } from './sshTargetConfigSchema.js';

/** URL schemes of configured targets (docs/operations.md "Configured targets"). */
export const configuredTargetSchemes = ['tcp', 'tcps', 'ssh'] as const;
export type ConfiguredTargetScheme = (typeof configuredTargetSchemes)[number];

/** A target URL split into its parts; the credential part is kept apart so it is never printed. */
export interface TargetUrl {
  readonly scheme: ConfiguredTargetScheme;
  readonly host: string;
  readonly port: number | undefined;
  /** `ssh://USER@`: the login; `tcps://SECRET@`: the endpoint's secret. */
  readonly userInfo: string | undefined;
}

/** Parses a configured target URL; returns a message (never quoting the URL) when it is not one. */
export function parseTargetUrl(text: string): TargetUrl | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'expected a URL such as tcp://127.0.0.1:5678, ssh://user@host:22 or tcps://host:5678';
  }
  const scheme = url.protocol.slice(0, -1);
  if (!(configuredTargetSchemes as readonly string[]).includes(scheme)) return `scheme must be one of ${configuredTargetSchemes.map((s) => `${s}://`).join(', ')}`;
  if (url.hostname === '') return 'expected a host';
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') return 'expected no path, query or fragment';
  if (url.password !== '') return 'expected no password in the URL';
  if (scheme === 'tcp' && url.username !== '') return 'tcp:// carries no credentials';
  if (scheme !== 'ssh' && url.port === '') return 'expected a port';
  let userInfo: string | undefined;
  try {
    userInfo = url.username === '' ? undefined : decodeURIComponent(url.username);
  } catch {
    // WHATWG URL keeps a `%` not followed by two hex digits; decoding it throws URIError.
    return 'expected a user part with valid percent-encoding (RFC 3986 §2.1)';
  }
  return { scheme: scheme as ConfiguredTargetScheme, host: url.hostname, port: url.port === '' ? undefined : Number(url.port), userInfo };
}

/** One configured target: `targets.<name>`. */
export const targetConfigSchema = z
  .strictObject(
    {
      /** `tcp://host:port` (sidecar), `ssh://[user@]host[:port]`, `tcps://host:port` (direct endpoint). */
      url: nonEmptyString,
      /** Bounded like an agent's (docs/protocol.md §5), so every entry of the target list stays small. */
      labels: z
        .record(z.string(), z.string({ error: 'expected a string' }), { error: 'expected a mapping' })
        .refine((labels) => labelBytes(labels) <= maxLabelBytes, { error: `labels may take at most ${maxLabelBytes} bytes (keys and values together, UTF-8)` })
        .optional(),
      /** `tcp://` to a host that is not loopback carries debugpy's unauthenticated protocol in clear: only with this opt-in. */
      allowRemotePlaintext: z.boolean({ error: 'expected true or false' }).optional(),
      /**
       * Pause after a session with the adapter ended before the next connect (debugpy's
       * adapter stops serving if a connect races a teardown; the agent uses the same 600 ms).
       */
      adapterSettleMs: z.number({ error: 'expected an integer' }).int({ error: 'expected an integer' }).min(0).max(10_000).optional(),
      /** SSH targets: where debugpy's adapter listens on the remote host (default 127.0.0.1:5678). */
      debugpy: nonEmptyString.optional(),
      ssh: sshTargetOptionsSchema.optional(),
      /** `tcps://` targets: the endpoint's secret, from a file (mode 0600) or an environment variable. */
      secretFile: nonEmptyString.optional(),
      secretEnv: nonEmptyString.optional(),
      /** `tcps://` targets: the endpoint's CA certificate, or its certificate's `sha256:` fingerprint. */
      caFile: nonEmptyString.optional(),
      pin: nonEmptyString.optional(),
    },
    { error: 'expected a mapping' },
  )
  .superRefine((target, ctx) => {
    const url = parseTargetUrl(target.url);
    if (typeof url === 'string') {
      ctx.addIssue({ code: 'custom', path: ['url'], message: url });
      return;
    }
    if (url.scheme === 'tcp' && !isLoopbackHost(url.host) && target.allowRemotePlaintext !== true) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'tcp:// reaches debugpy without TLS or authentication: only loopback hosts, unless allowRemotePlaintext is true',
      });
    }
    if (url.scheme === 'ssh') refineSshTarget(url, target, ctx);
    if (url.scheme !== 'ssh' && (target.debugpy !== undefined || target.ssh !== undefined)) {
      ctx.addIssue({ code: 'custom', path: [target.ssh !== undefined ? 'ssh' : 'debugpy'], message: 'only for ssh:// targets' });
    }
    if (url.scheme !== 'tcps') {
      for (const key of ['secretFile', 'secretEnv', 'caFile', 'pin'] as const) {
        if (target[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'only for tcps:// targets' });
      }
    }
  });

/** `ssh://` targets: a user, an `ssh` mapping (host key source and credential), a valid `debugpy` address. */
function refineSshTarget(url: TargetUrl, target: { debugpy?: string | undefined; ssh?: unknown }, ctx: z.RefinementCtx): void {
  if (url.userInfo === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'expected a user: ssh://USER@host[:port]' });
  if (target.ssh === undefined) {
    ctx.addIssue({ code: 'custom', path: ['ssh'], message: 'required for ssh:// targets: knownHostsFile or hostKey, and identityFile or agent' });
  }
  const debugpy = target.debugpy !== undefined ? parseDebugpyAddress(target.debugpy) : undefined;
  if (typeof debugpy === 'string') ctx.addIssue({ code: 'custom', path: ['debugpy'], message: debugpy });
}

/** `targets`: configured targets by name. */
export const targetsConfigSchema = z.record(
  z.string().regex(plainTargetNamePattern, { error: 'target names are letters, digits, ".", "_" and "-", starting with a letter or digit, at most 63' }),
  targetConfigSchema,
  { error: 'expected a mapping of target names' },
);

export type TargetConfig = z.infer<typeof targetConfigSchema>;
