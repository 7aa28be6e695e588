import { RelayError } from '../common/relayError.js';
import type { Logger } from '../log/logger.js';
import type { AuthMetrics } from '../metrics/relayMetrics.js';
import { keepMatchedAttachSecret, type AttachGuard } from './attachSecret.js';
import type { AttachGuessTable } from './attachGuessTable.js';
import type { CertificateAuthenticator, ClientCertificateMode, PresentedCertificate } from './clientCertificate.js';
import { intersectGrants } from './grants.js';
import { certificateIdentity, identityHint } from './identityHint.js';
import type { LockoutPolicy, LockoutTable } from './lockoutTable.js';
import type { SharedLockout } from './sharedLockout.js';
import type { Credential, Principal } from './principal.js';

/** The relay-wide parts of {@link AuthGate}. */
export interface AuthGateOptions {
  /** Failure counting and lockouts; undefined when `auth.lockout.enabled` is false. */
  readonly lockout: LockoutTable | undefined;
  /**
   * Failure counts shared with the other instances of the relay (`cluster.store`), by
   * the same policy as {@link lockout}; none for a relay alone or with lockouts off.
   */
  readonly shared?: { readonly store: SharedLockout; readonly policy: LockoutPolicy } | undefined;
  /** Failed attach-secret attempts per target; undefined when `auth.attachSecrets.guessLimit.enabled` is false. */
  readonly attachGuesses?: AttachGuessTable | undefined;
  readonly certificates: CertificateAuthenticator;
  /** `auth.certificates.sufficient`: a verified, granted certificate needs no secret or JWT. */
  readonly certificatesSufficient: boolean;
  readonly metrics: AuthMetrics;
  /** Logger tagged `auth`. */
  readonly logger: Logger;
}

/** One authentication attempt, as a listener sees it. */
export interface AuthAttempt {
  /** Where failures are counted (see `sourceOf`). */
  readonly source: string;
  /** Fields for the log line (listener, peer `ip:port`, endpoint); never a credential. */
  readonly where: Readonly<Record<string, unknown>>;
  /** The listener's `clientCertificates` setting. */
  readonly mode: ClientCertificateMode;
  readonly certificate: PresentedCertificate | undefined;
  /** Reads the secret or token (may throw `AUTH_FAILED` for a malformed one). */
  readonly readCredential: () => Credential | undefined;
  /** Verifies it (relay secret, JWT, ...): throws `AUTH_REQUIRED` or `AUTH_FAILED`. */
  readonly verifyCredential: (credential: Credential | undefined) => Promise<Principal>;
}

/**
 * Both factors passed: the certificate names the principal, and it may do what both
 * allow. The relay-wide secret names nobody, so with it the id is just `cert:<CN>`.
 */
export function combinePrincipals(certificate: Principal, credential: Principal): Principal {
  const expiries = [certificate.expiresAt, credential.expiresAt].filter((at): at is number => at !== undefined);
  return keepMatchedAttachSecret(
    credential,
    Object.freeze({
      id: credential.method === 'secret' ? certificate.id : `${certificate.id}+${credential.id}`,
      grants: intersectGrants(certificate.grants, credential.grants),
      method: credential.method,
      ...(expiries.length > 0 ? { expiresAt: Math.min(...expiries) } : {}),
    }),
  );
}

/**
 * Authentication in front of every connection (docs/protocol.md §2):
 * refuses a locked-out source with `AUTH_LOCKED` before looking at anything it sent;
 * checks the client certificate as the listener's mode says and the secret or JWT,
 * alone or together; counts every refusal in metrics, in the lockout table (only
 * guesses: `AUTH_FAILED`, and `AUTH_LOCKED` from a target closed to attach-secret
 * guesses; a missing credential guesses nothing) and in one `auth` log line
 * with the source and the reason, never the credential (a refusal `AUTH_LOCKED` at
 * debug level only, so that an attacker cannot flood the log). Attach-secret
 * comparisons are also counted per target ({@link attachGuard}).
 */
export class AuthGate {
  constructor(private readonly options: AuthGateOptions) {}

  /**
   * The per-target guard of one attach-secret comparison for `target` from `source`
   * (undefined when the guess limit is off): a target closed to guesses refuses with
   * `AUTH_LOCKED` (`dbgrelay_auth_failures_total{reason="AUTH_LOCKED"}`), which
   * {@link authenticate} counts as a failure of the source; a closing
   * is counted in `dbgrelay_auth_attach_closings_total` and logged.
   */
  attachGuard(target: string, source: string): AttachGuard | undefined {
    const { attachGuesses: table, metrics, logger } = this.options;
    if (!table) return undefined;
    return {
      check: () => {
        const closedMs = table.closedFor(target, source);
        if (closedMs > 0) {
          throw new RelayError('AUTH_LOCKED', `too many failed attach-secret attempts on this target; try again in ${Math.ceil(closedMs / 1000)} s`);
        }
      },
      failed: () => {
        const outcome = table.recordFailure(target);
        if (outcome.tableFull) metrics.attachTableFull.inc();
        if (outcome.lockedForMs !== undefined) {
          metrics.attachClosings.inc();
          const fields = { target, source, closedForMs: outcome.lockedForMs, tableFull: outcome.tableFull };
          logger.warn(fields, 'target closed to attach-secret guesses');
        }
      },
      matched: () => table.recordSuccess(target, source),
    };
  }

  /** Resolves with the principal, or rejects with a {@link RelayError}. */
  async authenticate(attempt: AuthAttempt): Promise<Principal> {
    const { lockout, shared, metrics, logger } = this.options;
    const lockedMs = Math.max(lockout?.lockedFor(attempt.source) ?? 0, shared ? await sharedLockedFor(shared.store, attempt.source) : 0);
    if (lockedMs > 0) {
      metrics.failures.inc({ reason: 'AUTH_LOCKED' });
      logger.debug({ ...attempt.where, source: attempt.source, code: 'AUTH_LOCKED' }, 'authentication refused: source locked out');
      throw new RelayError('AUTH_LOCKED', `too many failed attempts from this address; try again in ${Math.ceil(lockedMs / 1000)} s`);
    }
    let identity = certificateIdentity(attempt.certificate?.commonNames.length === 1 ? attempt.certificate.commonNames[0] : undefined);
    try {
      const certificate = this.certificatePrincipal(attempt);
      const credential = attempt.readCredential();
      identity ??= identityHint(credential);
      if (certificate && credential === undefined && this.options.certificatesSufficient) return certificate;
      const verified = await attempt.verifyCredential(credential);
      return certificate ? combinePrincipals(certificate, verified) : verified;
    } catch (error) {
      const code = error instanceof RelayError ? error.code : 'INTERNAL';
      metrics.failures.inc({ reason: code });
      const fields = { ...attempt.where, source: attempt.source, identity, code, reason: error instanceof RelayError ? error.message : undefined };
      if (code === 'AUTH_LOCKED') logger.debug(fields, 'authentication refused');
      else logger.warn(fields, 'authentication refused');
      // Past the check above, only a closed target's guard refuses with AUTH_LOCKED: a guess too, or polling it would be free.
      if ((code === 'AUTH_FAILED' || code === 'AUTH_LOCKED') && lockout) {
        const outcome = lockout.recordFailure(attempt.source, identity);
        if (outcome.tableFull) metrics.lockoutTableFull.inc();
        if (outcome.identityNowUnderAttack) logger.warn({ identity, source: attempt.source }, 'identity under attack: failing sources are locked out at once');
        if (outcome.lockedForMs !== undefined) {
          metrics.lockouts.inc();
          logger.warn({ source: attempt.source, identity, because: outcome.lockedBecause, lockedForMs: outcome.lockedForMs }, 'source locked out');
        }
        if (shared) this.countShared(shared.store, shared.policy, attempt.source);
      }
      throw error;
    }
  }

  /** Counts a failure in the shared store; an unreachable store leaves it to this instance's table. */
  private countShared(store: SharedLockout, policy: LockoutPolicy, source: string): void {
    store.recordFailure(source, policy).then(
      (lockedForMs) => {
        if (lockedForMs > 0) {
          this.options.metrics.lockouts.inc();
          this.options.logger.warn({ source, because: 'cluster', lockedForMs }, 'source locked out on every instance');
        }
      },
      () => this.options.logger.debug({ source }, 'failure not shared: the cluster store is unreachable'),
    );
  }

  /** The certificate's principal, undefined when the listener does not ask for one or none came. */
  private certificatePrincipal(attempt: AuthAttempt): Principal | undefined {
    if (attempt.mode === 'off') return undefined;
    if (!attempt.certificate) {
      if (attempt.mode === 'required') throw new RelayError('AUTH_REQUIRED', 'a client certificate is required on this listener');
      return undefined;
    }
    return this.options.certificates.authenticate(attempt.certificate);
  }
}

/** How long the shared store locks `source`; 0 when the store cannot say (this instance's table still counts). */
async function sharedLockedFor(store: SharedLockout, source: string): Promise<number> {
  try {
    return await store.lockedFor(source);
  } catch {
    return 0;
  }
}
