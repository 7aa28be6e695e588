import { z } from 'zod';
import { flag, intBetween } from './schemaFields.js';
import { grantsFromScopes } from '../protocol/scopes.js';

/** Values of `listeners.<name>.clientCertificates`. */
export const clientCertificateModes = ['off', 'optional', 'required'] as const;

/** Schema of `listeners.<name>.clientCertificates`. */
export const clientCertificatesSchema = z.enum(clientCertificateModes, { error: `expected one of ${clientCertificateModes.join(', ')}` });

const scopeList = z
  .array(z.string({ error: 'expected a string' }).min(1, { error: 'expected a non-empty string' }).max(300, { error: 'expected at most 300 characters' }), {
    error: 'expected a list of scopes',
  })
  .min(1, { error: 'expected at least one scope' })
  .superRefine((scopes, ctx) => {
    try {
      grantsFromScopes(scopes);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected scopes like attach:<pattern>, register:<pattern> or admin' });
    }
  });

const grantRule = z.strictObject(
  {
    cn: z.string({ error: 'expected a string' }).min(1, { error: 'expected a non-empty pattern' }).max(64, { error: 'expected at most 64 characters' }),
    scopes: scopeList,
  },
  { error: 'expected a mapping with cn and scopes' },
);

/** Schema of `auth.certificates` (docs/operations.md "Client certificates"). */
export const certificatesConfigSchema = z.strictObject(
  {
    sufficient: flag,
    grants: z.array(grantRule, { error: 'expected a list of {cn, scopes}' }).max(1000, { error: 'expected at most 1000 rules' }),
  },
  { error: 'expected a mapping' },
);

/** Bound on the lockout durations and window: one day. */
const maxLockoutMs = 86_400_000;

/** Schema of `auth.lockout` (docs/operations.md "Brute force"). */
export const lockoutConfigSchema = z.strictObject(
  {
    enabled: flag,
    threshold: intBetween(1, 1_000_000),
    windowMs: intBetween(1, maxLockoutMs),
    baseMs: intBetween(1, maxLockoutMs),
    maxMs: intBetween(1, maxLockoutMs),
    maxEntries: intBetween(100, 10_000_000),
  },
  { error: 'expected a mapping' },
);

/** Built-in defaults of `auth.certificates`. */
export const certificatesConfigDefaults = Object.freeze({ sufficient: false, grants: Object.freeze([]) });

/** Built-in defaults of `auth.lockout`. */
export const lockoutConfigDefaults = Object.freeze({
  enabled: true,
  threshold: 10,
  windowMs: 60_000,
  baseMs: 10_000,
  maxMs: 900_000,
  maxEntries: 10_000,
});
