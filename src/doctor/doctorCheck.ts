import type { RelayErrorCode } from '../common/relayError.js';

/** The checks `dbgrelay doctor` runs, in order: each needs the ones before it to have passed. */
export type DoctorCheckName = 'proxy' | 'dns' | 'tcp' | 'tls' | 'clock' | 'token' | 'target' | 'credential';

/** `skip`: not run, because an earlier check failed or it does not apply. */
export type DoctorStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** The outcome of one check, for people (summary, fix) and for machines (details, code). */
export interface DoctorCheckResult {
  readonly check: DoctorCheckName;
  readonly status: DoctorStatus;
  /** One line: what was found. */
  readonly summary: string;
  /** What to do about a failure or a warning. */
  readonly fix?: string;
  /** The error code of a failure: the command's exit status is that of its kind. */
  readonly code?: RelayErrorCode;
  /** What was measured or shown (timings, addresses, certificates, claims). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Builds a result, leaving out what is undefined (exactOptionalPropertyTypes). */
export function checkResult(
  check: DoctorCheckName,
  status: DoctorStatus,
  summary: string,
  extra: { fix?: string | undefined; code?: RelayErrorCode | undefined; details?: Readonly<Record<string, unknown>> | undefined } = {},
): DoctorCheckResult {
  return {
    check,
    status,
    summary,
    ...(extra.fix !== undefined ? { fix: extra.fix } : {}),
    ...(extra.code !== undefined ? { code: extra.code } : {}),
    ...(extra.details !== undefined ? { details: extra.details } : {}),
  };
}

/** The first failed check, whose code decides the exit status. */
export function firstFailure(results: readonly DoctorCheckResult[]): DoctorCheckResult | undefined {
  return results.find((result) => result.status === 'fail');
}
