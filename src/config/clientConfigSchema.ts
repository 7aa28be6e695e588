import { z } from 'zod';
import { nonEmptyString } from './schemaFields.js';

/** A context name: what `--context` and `dbgrelay config use-context` take. */
export const contextNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Bound on contexts in one client config file. */
export const maxContexts = 256;

/** The name of an environment variable (a credential source that keeps the secret out of the file). */
const environmentVariableName = z
  .string({ error: 'expected the name of an environment variable' })
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, { error: 'expected the name of an environment variable (letters, digits, _)' });

/** The keys of one context that name where its credential comes from; at most one is given. */
export const credentialKeys = ['secret-file', 'secret-env', 'token-file', 'token-env'] as const;

/**
 * One named profile of the client config file: how to reach one relay. It holds where
 * a credential comes from (a file or an environment variable), never the credential.
 */
export const clientContextSchema = z
  .strictObject(
    {
      relay: nonEmptyString.refine((url) => !/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*@/.test(url.trim()), {
        error: 'a secret in the relay URL is not kept in the client config file; give secret-file or secret-env',
      }),
      ca: nonEmptyString,
      fingerprints: z.array(nonEmptyString, { error: 'expected a list of sha256: fingerprints' }).min(1).max(16),
      'secret-file': nonEmptyString,
      'secret-env': environmentVariableName,
      'token-file': nonEmptyString,
      'token-env': environmentVariableName,
      cert: nonEmptyString,
      key: nonEmptyString,
    },
    { error: 'expected a mapping' },
  )
  .partial()
  .superRefine((context, issues) => {
    if (context.ca !== undefined && context.fingerprints !== undefined)
      issues.addIssue({ code: 'custom', path: ['fingerprints'], message: 'give either ca or fingerprints, not both' });
    const credentials = credentialKeys.filter((key) => context[key] !== undefined);
    if (credentials.length > 1) issues.addIssue({ code: 'custom', path: [credentials[1]!], message: `give one credential source, not ${credentials.join(' and ')}` });
    if ((context.cert === undefined) !== (context.key === undefined))
      issues.addIssue({ code: 'custom', path: [context.cert === undefined ? 'cert' : 'key'], message: 'give both cert and key, or neither' });
  });

/** A context as read from the file (relative paths already resolved). */
export type ClientContext = z.infer<typeof clientContextSchema>;

/** Schema of the client config file (`dbgrelay config`): named contexts and the current one. */
export const clientConfigSchema = z.strictObject(
  {
    'current-context': z.string({ error: 'expected a context name' }).regex(contextNamePattern, { error: 'expected a context name' }).optional(),
    contexts: z
      .record(z.string().regex(contextNamePattern, { error: 'expected a context name: letters, digits, ., _ and -, at most 64' }), clientContextSchema, {
        error: 'expected a mapping of context names',
      })
      .refine((contexts) => Object.keys(contexts).length <= maxContexts, { error: `at most ${maxContexts} contexts` })
      .default({}),
  },
  { error: 'expected a mapping' },
);

/** The client config file's contents. */
export type ClientConfig = z.infer<typeof clientConfigSchema>;
