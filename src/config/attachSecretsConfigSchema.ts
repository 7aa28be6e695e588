import { z } from 'zod';
import { flag, intBetween } from './schemaFields.js';

/**
 * Shortest attach secret the relay and the agent accept (docs/protocol.md §2.2): with
 * the per-target guess limit (auth/attachGuessTable.ts) about 10 guesses a minute are
 * compared, so even 16 decimal digits would last about a billion years; without it a
 * thousand sources at 9 guesses a minute each still need about a million years. Config
 * `auth.attachSecrets.minLength` may raise it, never lower it.
 */
export const minAttachSecretLength = 16;

/** Bound on the counting window and the closings: one day. */
const maxGuessLimitMs = 86_400_000;

/** Schema of `auth.attachSecrets.guessLimit` (docs/operations.md "Brute force"). */
const guessLimitSchema = z.strictObject(
  {
    enabled: flag,
    threshold: intBetween(1, 1_000_000),
    windowMs: intBetween(1, maxGuessLimitMs),
    baseMs: intBetween(1, maxGuessLimitMs),
    maxMs: intBetween(1, maxGuessLimitMs),
    maxTargets: intBetween(100, 10_000_000),
    trustedSourceMs: intBetween(0, 7 * maxGuessLimitMs),
  },
  { error: 'expected a mapping' },
);

/**
 * Schema of `auth.attachSecrets` (docs/operations.md "Brute force", docs/protocol.md
 * §2.2): the shortest attach secret a `register` may set (never below
 * {@link minAttachSecretLength}, which the agent enforces too) and the per-target
 * guess limit.
 */
export const attachSecretsConfigSchema = z.strictObject(
  {
    minLength: intBetween(minAttachSecretLength, 4096),
    guessLimit: guessLimitSchema,
  },
  { error: 'expected a mapping' },
);

/** Built-in defaults of `auth.attachSecrets`. */
export const attachSecretsConfigDefaults = Object.freeze({
  minLength: minAttachSecretLength,
  guessLimit: Object.freeze({
    enabled: true,
    threshold: 10,
    windowMs: 60_000,
    baseMs: 5_000,
    maxMs: 60_000,
    maxTargets: 10_000,
    trustedSourceMs: 43_200_000,
  }),
});
