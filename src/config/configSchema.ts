import { z } from 'zod';
import { flag, intBetween, nonEmptyString } from './schemaFields.js';
import { consoleConfigSchema } from './consoleConfigSchema.js';
import { jwtConfigSchema } from './jwtConfigSchema.js';
import { certificatesConfigSchema, clientCertificatesSchema, lockoutConfigSchema } from './accessConfigSchema.js';
import { attachSecretsConfigSchema } from './attachSecretsConfigSchema.js';
import { frontEndConfigShape, frontEndRefinements, wssListenerExtension } from './frontEndConfigSchema.js';
import { auditConfigSchema, pauseWatchdogConfigSchema, policiesConfigSchema, sessionsConfigSchema } from './guardrailsConfigSchema.js';
import { metricsConfigSchema } from './observabilityConfigSchema.js';
import { targetsConfigSchema } from './targetsConfigSchema.js';
import { sshServerConfigSchema } from './sshServerConfigSchema.js';
import { heartbeatConfigSchema } from './heartbeatConfigSchema.js';
import { lifecycleConfigSchema, lifecycleLimitsShape } from './lifecycleConfigSchema.js';
import { preAuthLimitsShape } from './preAuthConfigSchema.js';
import { clusterConfigSchema } from './clusterConfigSchema.js';
import { maxMaxDapMessageBytes, minMaxDapMessageBytes } from '../protocol/dapMessageBound.js';
import { maxPrefetchBytes } from '../protocol/prefetch.js';
import { isServerName } from '../common/serverName.js';

/** Bound of `dap.prefetch.maxHoldMs`: the `stopped` event (and the pause watchdog's count) waits at most this long. */
const maxConfiguredHoldMs = 2_000;

const mapping = { error: 'expected a mapping' };

const listener = z.strictObject({ enabled: flag, host: nonEmptyString, port: intBetween(0, 65535), clientCertificates: clientCertificatesSchema }, mapping);

/** Bound of `tls.publicNames`: names in one development certificate. */
const maxPublicNames = 64;

/** Bound on every timeout key: one day. */
const maxTimeoutMs = 86_400_000;

/** Log levels accepted by `log.level` (pino's levels plus `silent`). */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Schema of the relay configuration after defaults, file, environment and flags have
 * been merged (see `loadConfig`). Unknown keys are rejected; every message names what
 * was expected, never the value (a value may be a secret).
 */
export const relayConfigSchema = z
  .strictObject(
    {
      dataDir: nonEmptyString,
      listeners: z.strictObject({ wss: listener.extend(wssListenerExtension), tcps: listener }, mapping),
      tls: z.strictObject(
        {
          certFile: nonEmptyString.optional(),
          keyFile: nonEmptyString.optional(),
          clientCaFile: nonEmptyString.optional(),
          // Names agents and clients on other hosts dial (DNS names or IP addresses): the development certificate covers them.
          publicNames: z
            .array(
              nonEmptyString
                .max(253, { error: 'expected at most 253 characters' })
                .refine((entry) => entry.split(',').every((name) => name.trim() === '' || isServerName(name.trim())), {
                  error: 'expected DNS names or IP addresses (an IPv6 zone such as %eth0 cannot be in a certificate)',
                }),
              { error: 'expected a list of DNS names or IP addresses' },
            )
            .max(maxPublicNames, { error: `expected at most ${maxPublicNames} names` }),
        },
        mapping,
      ),
      auth: z.strictObject(
        {
          secretFile: nonEmptyString,
          secret: z.string({ error: 'expected a string' }).min(1, { error: 'expected a non-empty string' }).max(4096, { error: 'expected at most 4096 characters' }).optional(),
          jwt: jwtConfigSchema,
          certificates: certificatesConfigSchema,
          lockout: lockoutConfigSchema,
          attachSecrets: attachSecretsConfigSchema,
        },
        mapping,
      ),
      limits: z.strictObject(
        {
          handshakeTimeoutMs: intBetween(1, maxTimeoutMs),
          openTimeoutMs: intBetween(1, maxTimeoutMs),
          // Idle HTTP connection of the wss listener between requests; behind a front end
          // that reuses connections, above its idle timeout (else it may send on a closing one).
          httpKeepAliveTimeoutMs: intBetween(1, 3_600_000),
          maxControlMessageBytes: intBetween(1024, 16 * 1024 * 1024),
          maxPendingOpensPerAgent: intBetween(1, 10_000),
          // Far above any DAP message, far below the ~4000 levels at which JSON.stringify overflows the stack.
          maxJsonDepth: intBetween(16, 512),
          ...lifecycleLimitsShape,
          ...preAuthLimitsShape,
        },
        mapping,
      ),
      dap: z.strictObject(
        {
          maxMessageBytes: intBetween(minMaxDapMessageBytes, maxMaxDapMessageBytes),
          // Answers sent ahead on each stop (docs/operations.md "Prefetch on stopped"); 0 bytes turns it off.
          // maxHoldMs delays the stopped event, and with it the pause watchdog's start: kept short
          prefetch: z.strictObject({ maxBytesPerStop: intBetween(0, maxPrefetchBytes), maxHoldMs: intBetween(1, maxConfiguredHoldMs) }, mapping),
        },
        mapping,
      ),
      agents: z.strictObject({ heartbeatIntervalMs: intBetween(1, maxTimeoutMs), heartbeatTimeoutMs: intBetween(1, maxTimeoutMs) }, mapping),
      log: z.strictObject(
        {
          level: z.enum(logLevels, { error: `expected one of ${logLevels.join(', ')}` }),
          file: nonEmptyString.optional(),
        },
        mapping,
      ),
      policies: policiesConfigSchema,
      pauseWatchdog: pauseWatchdogConfigSchema,
      sessions: sessionsConfigSchema,
      audit: auditConfigSchema,
      ...frontEndConfigShape,
      metrics: metricsConfigSchema,
      targets: targetsConfigSchema,
      sshServer: sshServerConfigSchema,
      heartbeat: heartbeatConfigSchema,
      lifecycle: lifecycleConfigSchema,
      cluster: clusterConfigSchema,
      console: consoleConfigSchema,
    },
    mapping,
  )
  .superRefine((config, ctx) => {
    if (config.tls.certFile !== undefined && config.tls.keyFile === undefined) {
      ctx.addIssue({ code: 'custom', path: ['tls', 'keyFile'], message: 'required when tls.certFile is set' });
    }
    if (config.tls.keyFile !== undefined && config.tls.certFile === undefined) {
      ctx.addIssue({ code: 'custom', path: ['tls', 'certFile'], message: 'required when tls.keyFile is set' });
    }
    if (config.agents.heartbeatTimeoutMs <= config.agents.heartbeatIntervalMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['agents', 'heartbeatTimeoutMs'],
        message: 'must be greater than agents.heartbeatIntervalMs',
      });
    }
    for (const name of ['wss', 'tcps'] as const) {
      if (config.listeners[name].clientCertificates !== 'off' && config.tls.clientCaFile === undefined) {
        ctx.addIssue({ code: 'custom', path: ['tls', 'clientCaFile'], message: `required when listeners.${name}.clientCertificates is not off` });
      }
    }
    if (!config.listeners.wss.enabled && !config.listeners.tcps.enabled) {
      ctx.addIssue({ code: 'custom', path: ['listeners'], message: 'at least one listener must be enabled' });
    }
    frontEndRefinements(config, ctx);
  });

type DeepReadonly<T> = T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** The validated, frozen relay configuration. */
export type RelayConfig = DeepReadonly<z.infer<typeof relayConfigSchema>>;

/** Configuration of one listener (`listeners.wss`, `listeners.tcps`). */
export type ListenerConfig = RelayConfig['listeners']['tcps'];

/** Configuration of the wss listener (`listeners.wss`: a listener that may run without TLS). */
export type WssListenerConfig = RelayConfig['listeners']['wss'];
