import { z } from 'zod';
import { intBetween, nonEmptyString } from './schemaFields.js';

const mapping = { error: 'expected a mapping' };

/** `redis://` or `rediss://` with a host; the message never repeats the URL (it may carry a password). */
const storeUrl = nonEmptyString.refine(
  (text) => {
    try {
      const url = new URL(text);
      return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
    } catch {
      return false;
    }
  },
  { message: 'expected a redis:// or rediss:// URL with a host' },
);

/**
 * Schema of `cluster` (docs/operations.md "Running several relays"): several relay
 * instances behind one load balancer act as one relay. Without `cluster.store.url` the
 * relay runs alone, as it always did. With it, which instance holds which target lives
 * in Redis with expiring, fenced entries, and an instance that receives a client for a
 * target held by another forwards the session over mutual TLS to the instance at
 * `cluster.peer.advertise`, which runs its guardrails. Every key needs a restart.
 */
export const clusterConfigSchema = z
  .strictObject(
    {
      store: z.strictObject(
        {
          /** `redis://[user:password@]host:port[/db]` or `rediss://`; unset: one instance, no store. */
          url: storeUrl.optional(),
          /** Prefix of every key; the `{…}` hash tag keeps them in one slot of a Redis Cluster. */
          keyPrefix: nonEmptyString,
          /** Bound on one store command; past it the store counts as unreachable. */
          commandTimeoutMs: intBetween(50, 60_000),
        },
        mapping,
      ),
      /** This instance's name in the store and in logs; unset: the host name and a random suffix. */
      instanceId: z
        .string({ error: 'expected a string' })
        .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'expected 1 to 64 letters, digits, dots, dashes or underscores' })
        .optional(),
      peer: z.strictObject(
        {
          /** Where this instance listens for sessions other instances forward (mutual TLS only). */
          host: nonEmptyString,
          port: intBetween(0, 65535),
          /** `host:port` the other instances dial; unset: this host's name and `peer.port`. */
          advertise: nonEmptyString.optional(),
          /** Certificate (with `serverAuth` and `clientAuth`) and key this instance presents to its peers. */
          certFile: nonEmptyString.optional(),
          keyFile: nonEmptyString.optional(),
          /** The CA that signed every instance's peer certificate; nothing else is accepted on the link. */
          caFile: nonEmptyString.optional(),
        },
        mapping,
      ),
      /** Life of a target's and an instance's entry without renewal: how long a dead instance's routes last. */
      entryTtlMs: intBetween(1_000, 600_000),
      /** Bound on forwarding a session: dialing the holding instance and its answer. */
      forwardTimeoutMs: intBetween(100, 600_000),
    },
    mapping,
  )
  .superRefine((cluster, ctx) => {
    if (cluster.store.url === undefined) return;
    for (const key of ['certFile', 'keyFile', 'caFile'] as const) {
      if (cluster.peer[key] === undefined) ctx.addIssue({ code: 'custom', path: ['peer', key], message: 'required when cluster.store.url is set' });
    }
  });

/** Defaults of `cluster`: no store (one instance); when one is set, entries live 15 s and forwarding waits 10 s. */
export function clusterConfigDefaults(): { cluster: Record<string, unknown> } {
  return {
    cluster: {
      store: { keyPrefix: '{dbgrelay}:', commandTimeoutMs: 2_000 },
      peer: { host: '0.0.0.0', port: 7445 },
      entryTtlMs: 15_000,
      forwardTimeoutMs: 10_000,
    },
  };
}
