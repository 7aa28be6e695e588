import { isIP } from 'node:net';
import { z } from 'zod';
import { intBetween, nonEmptyString } from './schemaFields.js';

/** JWS algorithms the relay can verify and sign with (RFC 7518 §3.1, RFC 8037 §3.1). */
export const jwtAlgorithms = ['HS256', 'RS256', 'ES256', 'EdDSA'] as const;

/** One of {@link jwtAlgorithms}. */
export type JwtAlgorithm = (typeof jwtAlgorithms)[number];

/** Bound on a bearer token: it must also fit the 8 KiB tcps hello line (docs/protocol.md §4). */
export const maxTokenBytesLimit = 7168;

/** Built-in defaults of `auth.jwt` (docs/operations.md). */
export const jwtConfigDefaults = Object.freeze({
  enabled: false,
  algorithms: ['RS256', 'ES256', 'EdDSA'],
  maxLifetimeS: 86_400,
  clockToleranceS: 30,
  jwksTimeoutMs: 5_000,
  jwksCooldownMs: 30_000,
  jwksCacheMaxAgeMs: 600_000,
  maxTokenBytes: 4_096,
});

/** True for `localhost` and loopback IP literals (127.0.0.0/8, ::1). */
function isLoopbackName(host: string): boolean {
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

/**
 * Why `url` cannot be a JWKS URL, or undefined when it can: `https:`, or `http:` to a
 * loopback address only (a local JWKS sidecar, tests). No credentials or fragment.
 */
export function jwksUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'expected an absolute https:// URL';
  }
  if (parsed.username !== '' || parsed.password !== '') return 'must not carry credentials';
  if (parsed.hash !== '') return 'must not have a fragment';
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol === 'http:' && isLoopbackName(parsed.hostname)) return undefined;
  return 'must be https:// (plain http:// is accepted for loopback addresses only)';
}

/**
 * Schema of `auth.jwt` (docs/operations.md, "JWT"). When `enabled`, `issuer`,
 * `audience` and exactly one key source (`keyFile`, `jwksFile`, `jwksUrl`) are
 * required; HS256 keys come only from `keyFile` (a shared secret is never published
 * in a key set).
 */
export const jwtConfigSchema = z
  .strictObject(
    {
      enabled: z.boolean({ error: 'expected true or false' }),
      algorithms: z
        .array(z.enum(jwtAlgorithms, { error: `expected one of ${jwtAlgorithms.join(', ')}` }), { error: 'expected a list of algorithms' })
        .min(1, { error: 'expected at least one algorithm' }),
      issuer: nonEmptyString.optional(),
      audience: nonEmptyString.optional(),
      keyFile: nonEmptyString.optional(),
      jwksFile: nonEmptyString.optional(),
      jwksUrl: nonEmptyString.optional(),
      signingKeyFile: nonEmptyString.optional(),
      maxLifetimeS: intBetween(60, 30 * 86_400),
      clockToleranceS: intBetween(0, 300),
      jwksTimeoutMs: intBetween(100, 60_000),
      jwksCooldownMs: intBetween(0, 86_400_000),
      jwksCacheMaxAgeMs: intBetween(1_000, 86_400_000),
      maxTokenBytes: intBetween(256, maxTokenBytesLimit),
    },
    { error: 'expected a mapping' },
  )
  .superRefine((jwt, ctx) => {
    const issue = (key: string, message: string): void => ctx.addIssue({ code: 'custom', path: [key], message });
    if (jwt.jwksUrl !== undefined) {
      const problem = jwksUrlProblem(jwt.jwksUrl);
      if (problem) issue('jwksUrl', problem);
      if (jwt.algorithms.includes('HS256')) issue('algorithms', 'HS256 cannot be used with auth.jwt.jwksUrl; put the HMAC key in auth.jwt.keyFile');
    }
    if (jwt.jwksFile !== undefined && jwt.algorithms.includes('HS256')) {
      issue('algorithms', 'HS256 cannot be used with auth.jwt.jwksFile; put the HMAC key in auth.jwt.keyFile');
    }
    if (new Set(jwt.algorithms).size !== jwt.algorithms.length) issue('algorithms', 'lists an algorithm twice');
    const sources = (['keyFile', 'jwksFile', 'jwksUrl'] as const).filter((key) => jwt[key] !== undefined);
    if (sources.length > 1) issue(sources[1]!, `give only one of auth.jwt.keyFile, auth.jwt.jwksFile, auth.jwt.jwksUrl`);
    if (!jwt.enabled) return;
    if (sources.length === 0) issue('keyFile', 'one of auth.jwt.keyFile, auth.jwt.jwksFile or auth.jwt.jwksUrl is required when auth.jwt.enabled is true');
    if (jwt.issuer === undefined) issue('issuer', 'required when auth.jwt.enabled is true');
    if (jwt.audience === undefined) issue('audience', 'required when auth.jwt.enabled is true');
  });

/** The validated `auth.jwt` section. */
export type JwtConfig = { readonly [K in keyof z.infer<typeof jwtConfigSchema>]: K extends 'algorithms' ? readonly JwtAlgorithm[] : z.infer<typeof jwtConfigSchema>[K] };
