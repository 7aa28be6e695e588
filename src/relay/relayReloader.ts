import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { SecureContextOptions } from 'node:tls';
import type { AuthenticatorHolder } from '../auth/authenticatorHolder.js';
import { CompositeAuthenticator } from '../auth/compositeAuthenticator.js';
import { JwtAuthenticator } from '../auth/jwtAuthenticator.js';
import type { Authenticator } from '../auth/principal.js';
import { resolveRelaySecret, type RelaySecret } from '../auth/relaySecret.js';
import { SecretAuthenticator } from '../auth/secretAuthenticator.js';
import { RelayError } from '../common/relayError.js';
import { tlsPolicy } from '../common/tlsPolicy.js';
import type { RelayConfig } from '../config/configSchema.js';
import { tagged, type Logger } from '../log/logger.js';
import type { LifecycleMetrics } from '../metrics/lifecycleMetrics.js';
import type { SessionGuards } from '../session/sessionGuards.js';
import type { ConfiguredTargetSet, TargetChanges } from '../targets/configuredTargetSet.js';
import { loadClientCa } from '../listeners/clientCertificateTls.js';
import type { LifecycleState } from '../lifecycle/lifecycleLimits.js';
import type { ReloadableTlsServer } from '../listeners/listenerContext.js';
import { effectiveConfig, planReload } from '../lifecycle/reloadPlan.js';
import { loadTlsMaterial, type TlsMaterial } from './tlsMaterial.js';

/** What a reload did (docs/operations.md "Reload"). */
export interface ReloadResult {
  /** Changed config keys now in force for new connections and sessions. */
  readonly changed: readonly string[];
  /** Changed config keys that need a restart; their old values stay in force. */
  readonly needsRestart: readonly string[];
  /** True when the relay secret is another one than before (file content or `DBGRELAY_SECRET`). */
  readonly secretChanged: boolean;
  /** True when the certificate the relay presents is another one than before. */
  readonly certificateChanged: boolean;
  /** Configured targets added, removed, replaced. */
  readonly targets: TargetChanges;
}

/** The relay's authenticator for `config`: the relay secret, and JWTs when enabled. */
export function buildAuthenticator(secret: string, config: RelayConfig, logger: Logger): Authenticator {
  return new CompositeAuthenticator({
    secret: new SecretAuthenticator(secret),
    ...(config.auth.jwt.enabled ? { bearer: JwtAuthenticator.fromConfig(config.auth.jwt, tagged(logger, 'auth')) } : {}),
  });
}

/**
 * The secure context options a TLS listener gets from the relay's material (tls.certFile …,
 * tls.clientCaFile), under the relay's TLS policy: `setSecureContext` rebuilds the whole
 * context, so a reload without the policy would bring back Node's default suites and renegotiation.
 */
export function secureContextOptions(tls: Pick<TlsMaterial, 'cert' | 'key'>, clientCa: string | undefined): SecureContextOptions {
  return { cert: tls.cert, key: tls.key, ...tlsPolicy, ...(clientCa !== undefined ? { ca: clientCa } : {}) };
}

/** The parts of a running relay a reload swaps. */
export interface ReloadTargets {
  readonly authenticator: AuthenticatorHolder;
  readonly guards: SessionGuards;
  readonly lifecycle: LifecycleState;
  readonly targets: ConfiguredTargetSet;
  /** The wss (with TLS) and tcps servers, as the listeners registered them. */
  readonly tlsServers: readonly ReloadableTlsServer[];
  readonly metrics: LifecycleMetrics;
  /** Shows the certificates now in force (`dbgrelay_certificate_expiry_timestamp_seconds`); never throws. */
  readonly showCertificates: (config: RelayConfig, tls: TlsMaterial, clientCa: string | undefined) => void;
  readonly logger: Logger;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Applies a new configuration to a running relay without dropping anything: every
 * piece is built and checked first (secret, JWT keys, TLS material, configured
 * targets), and only when all of them are usable are they swapped in; a failure leaves
 * the running configuration in force. Files are read anew on every reload, so a
 * rotated secret file or renewed certificate takes effect with an unchanged config.
 */
export class RelayReloader {
  private secretDigest: string;
  private tlsInfo: Omit<TlsMaterial, 'key' | 'cert'>;

  constructor(
    private running: RelayConfig,
    secret: RelaySecret,
    tls: TlsMaterial,
    private readonly parts: ReloadTargets,
  ) {
    this.secretDigest = digest(secret.secret);
    const { cert: _cert, key: _key, ...info } = tls;
    this.tlsInfo = info;
  }

  /** The configuration in force (keys that need a restart keep their start values). */
  get config(): RelayConfig {
    return this.running;
  }

  /** The certificate the relay presents now. */
  get tls(): Omit<TlsMaterial, 'key' | 'cert'> {
    return this.tlsInfo;
  }

  /**
   * Reloads `next` (or what `next()` loads): throws `CONFIG_INVALID` naming the key
   * when it cannot be loaded or applied (counted as `refused`; nothing changed).
   */
  reload(next: RelayConfig | (() => RelayConfig)): ReloadResult {
    const log = tagged(this.parts.logger, 'config');
    try {
      const result = this.apply(typeof next === 'function' ? next() : next);
      this.parts.metrics.reloads.inc({ outcome: 'applied' });
      log.info({ ...result }, result.needsRestart.length > 0 ? 'configuration reloaded; some changes need a restart' : 'configuration reloaded');
      return result;
    } catch (error) {
      this.parts.metrics.reloads.inc({ outcome: 'refused' });
      const relayError = error instanceof RelayError ? error : new RelayError('CONFIG_INVALID', `reload failed: ${(error as Error).message}`);
      log.error({ code: relayError.code, reason: relayError.message }, 'configuration reload refused; the running configuration stays in force');
      throw relayError;
    }
  }

  private apply(next: RelayConfig): ReloadResult {
    const plan = planReload(this.running, next);
    const config = effectiveConfig(this.running, next, plan.needsRestart);
    // Build and check everything first.
    if (config.auth.secret === undefined && !existsSync(config.auth.secretFile)) {
      throw new RelayError('CONFIG_INVALID', `auth.secretFile: ${config.auth.secretFile} does not exist (a reload never creates a secret)`);
    }
    const secret = resolveRelaySecret(config.auth.secret, config.auth.secretFile);
    const authenticator = buildAuthenticator(secret.secret, config, this.parts.logger);
    const tls = loadTlsMaterial(config);
    const clientCa = loadClientCa(config);
    const context = secureContextOptions(tls, clientCa);
    const targets = this.parts.targets.prepare(config);
    // Then swap; nothing below throws.
    const secretDigest = digest(secret.secret);
    const secretChanged = secretDigest !== this.secretDigest;
    const certificateChanged = tls.leafFingerprint !== this.tlsInfo.leafFingerprint;
    this.parts.authenticator.set(authenticator);
    for (const server of this.parts.tlsServers) server.setSecureContext(context);
    this.parts.guards.reconfigure(config);
    const { maxAgents, maxAgentsPerPrincipal, maxSessionsPerPrincipal, maxSessionsPerTarget, sessionIdleTimeoutMs } = config.limits;
    this.parts.lifecycle.values = { maxAgents, maxAgentsPerPrincipal, maxSessionsPerPrincipal, maxSessionsPerTarget, sessionIdleTimeoutMs };
    targets.commit();
    this.parts.showCertificates(config, tls, clientCa);
    this.secretDigest = secretDigest;
    const { cert: _cert, key: _key, ...info } = tls;
    this.tlsInfo = info;
    this.running = config;
    return { changed: plan.changed, needsRestart: plan.needsRestart, secretChanged, certificateChanged, targets: targets.changes };
  }
}
