import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { flag } from './schemaFields.js';
import { isLoopbackHost } from '../common/loopbackHost.js';
import { isValidTargetName } from '../protocol/targetName.js';

const mapping = { error: 'expected a mapping' };

/** Bound on `frontEnd.trustedProxies`. */
const maxTrustedProxies = 256;

/**
 * Parses one `frontEnd.trustedProxies` entry: an IPv4 or IPv6 address, or a CIDR
 * block (`10.0.0.0/8`, `fd00::/8`). Returns undefined when it is neither.
 */
export function parseProxyEntry(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address, prefixText, extra] = entry.trim().split('/');
  if (address === undefined || extra !== undefined) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const bits = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** A `BlockList` (used here as an allow-list) holding the `frontEnd.trustedProxies` entries. */
export function trustedProxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const parsed = parseProxyEntry(entry);
    if (parsed) list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return list;
}

/** Extra keys of `listeners.wss` (merged into the shared listener schema in configSchema.ts). */
export const wssListenerExtension = {
  /**
   * `false`: plain HTTP, for a relay behind a TLS-terminating front end on the same
   * host; only allowed with a loopback `host` (see {@link frontEndRefinements}).
   */
  tls: flag,
};

/** Schema of `frontEnd` (docs/operations.md "Behind a front end"). */
export const frontEndSectionSchema = z.strictObject(
  {
    trustedProxies: z
      .array(
        z.string({ error: 'expected a string' }).refine((entry) => parseProxyEntry(entry) !== undefined, {
          error: 'expected an IP address or a CIDR block such as 127.0.0.1 or 10.0.0.0/8',
        }),
        { error: 'expected a list of addresses or CIDR blocks' },
      )
      .max(maxTrustedProxies, { error: `expected at most ${maxTrustedProxies} entries` }),
  },
  mapping,
);

/** Schema of `ptvsd` (docs/operations.md "The /ptvsd endpoint"). */
export const ptvsdSectionSchema = z.strictObject(
  {
    enabled: flag,
    defaultTarget: z
      .string({ error: 'expected a target name' })
      .refine(isValidTargetName, { error: 'expected a target name (letters, digits, ".", "_", "-"; at most 63)' })
      .optional(),
  },
  mapping,
);

/** Top-level keys this file adds to the relay configuration (spread into configSchema.ts). */
export const frontEndConfigShape = { frontEnd: frontEndSectionSchema, ptvsd: ptvsdSectionSchema };

/** Built-in defaults of the keys above (merged into configDefaults). */
export function frontEndConfigDefaults(): Record<string, unknown> {
  return { frontEnd: { trustedProxies: [] }, ptvsd: { enabled: true } };
}

interface RefinedConfig {
  readonly listeners: { readonly wss: { readonly tls: boolean; readonly host: string; readonly enabled: boolean; readonly clientCertificates: string } };
}

/**
 * Cross-key checks of this file's keys, called from the relay schema's `superRefine`:
 * a plain-HTTP wss listener must bind loopback (only a front end on the same host may
 * reach it) and cannot ask for client certificates (there is no TLS to carry them).
 */
export function frontEndRefinements(config: RefinedConfig, ctx: z.RefinementCtx): void {
  const wss = config.listeners.wss;
  if (!wss.enabled || wss.tls) return;
  if (!isLoopbackHost(wss.host)) {
    ctx.addIssue({
      code: 'custom',
      path: ['listeners', 'wss', 'tls'],
      message: 'false is only allowed when listeners.wss.host is a loopback address (127.0.0.1, ::1): credentials would cross the network in clear text',
    });
  }
  if (wss.clientCertificates !== 'off') {
    ctx.addIssue({ code: 'custom', path: ['listeners', 'wss', 'clientCertificates'], message: 'must be off when listeners.wss.tls is false' });
  }
}
