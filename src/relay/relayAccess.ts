import { AttachGuessTable } from '../auth/attachGuessTable.js';
import { AuthGate } from '../auth/authGate.js';
import { CertificateAuthenticator } from '../auth/clientCertificate.js';
import { LockoutTable } from '../auth/lockoutTable.js';
import type { SharedLockout } from '../auth/sharedLockout.js';
import type { RelayConfig } from '../config/configSchema.js';
import { tagged, type Logger } from '../log/logger.js';
import { RelayMetrics } from '../metrics/relayMetrics.js';
import { loadClientCa } from '../listeners/clientCertificateTls.js';

/** What {@link createRelayAccess} builds for one relay instance. */
export interface RelayAccess {
  /** Lockout, client certificates and auth metrics in front of the authenticator. */
  readonly authGate: AuthGate;
  /** The instance's metrics (its own prom-client registry). */
  readonly metrics: RelayMetrics;
  /** PEM of `tls.clientCaFile`, undefined when not configured. */
  readonly clientCa: string | undefined;
}

/**
 * Builds the access-control parts of a relay from `auth.certificates`,
 * `auth.lockout`, `auth.attachSecrets.guessLimit` and `tls.clientCaFile`, with a
 * fresh metrics registry; with `sharedLockout` (several instances), failures are also
 * counted across instances. Throws `CONFIG_INVALID` when the client CA file is unusable.
 */
export function createRelayAccess(config: RelayConfig, logger: Logger, sharedLockout?: SharedLockout): RelayAccess {
  const clientCa = loadClientCa(config);
  const { enabled, ...policy } = config.auth.lockout;
  const lockout = enabled ? new LockoutTable(policy) : undefined;
  const { enabled: limitGuesses, ...guessPolicy } = config.auth.attachSecrets.guessLimit;
  const attachGuesses = limitGuesses ? new AttachGuessTable(guessPolicy) : undefined;
  const metrics = new RelayMetrics(
    () => lockout?.lockedSources() ?? 0,
    () => attachGuesses?.closedTargets() ?? 0,
  );
  const authGate = new AuthGate({
    lockout,
    shared: enabled && sharedLockout ? { store: sharedLockout, policy } : undefined,
    attachGuesses,
    certificates: new CertificateAuthenticator(config.auth.certificates.grants),
    certificatesSufficient: config.auth.certificates.sufficient,
    metrics: metrics.auth,
    logger: tagged(logger, 'auth'),
  });
  return { authGate, metrics, clientCa };
}
