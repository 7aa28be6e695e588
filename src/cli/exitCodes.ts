import { isRelayError, type RelayErrorCode } from '../common/relayError.js';

/**
 * What kind of failure ended a command, for scripts that branch on `$?`. The values
 * follow sysexits.h where it has one; `refused` (busy, a bound reached) borrows
 * `EX_TEMPFAIL`, since trying again later or with `--takeover` can work.
 */
export const exitStatusByKind = {
  /** `EX_USAGE`: wrong flags or arguments (commander's errors too). */
  usage: 64,
  /** `EX_UNAVAILABLE`: the relay, the target or its agent cannot be reached now. */
  unreachable: 69,
  /** `EX_SOFTWARE`: anything unexpected. */
  internal: 70,
  /** `EX_TEMPFAIL`: refused for now: the target is busy with another principal, or a bound is reached. */
  refused: 75,
  /** `EX_PROTOCOL`: TLS: the relay's certificate is not trusted (CA, pin, name or dates). */
  tls: 76,
  /** `EX_NOPERM`: the credential is missing, refused or does not cover what was asked. */
  auth: 77,
  /** `EX_CONFIG`: a configuration, flag file or credential file that cannot be used. */
  config: 78,
} as const;

/** A kind of failure (see {@link exitStatusByKind}). */
export type FailureKind = keyof typeof exitStatusByKind;

/**
 * The kind of failure each error code is. A `Record` over every code, so adding a code
 * to relayError.ts without a row here does not compile (and the unit test checks it).
 */
export const failureKindByCode: Readonly<Record<RelayErrorCode, FailureKind>> = {
  AUTH_REQUIRED: 'auth',
  AUTH_FAILED: 'auth',
  AUTH_LOCKED: 'auth',
  BAD_REQUEST: 'usage',
  PROTOCOL_VERSION: 'internal',
  HANDSHAKE_TIMEOUT: 'unreachable',
  TARGET_NAME_INVALID: 'usage',
  TARGET_NAME_IN_USE: 'refused',
  UNKNOWN_TARGET: 'unreachable',
  UNKNOWN_SESSION: 'internal',
  AGENT_OPEN_FAILED: 'unreachable',
  AGENT_OPEN_TIMEOUT: 'unreachable',
  AGENT_GONE: 'unreachable',
  HEARTBEAT_TIMEOUT: 'unreachable',
  MESSAGE_TOO_LARGE: 'internal',
  NOT_FOUND: 'unreachable',
  TARGET_BUSY: 'refused',
  // The relay's own SSH connection to a target: the target cannot be reached through it.
  SSH_UNREACHABLE: 'unreachable',
  SSH_HOST_KEY_UNKNOWN: 'unreachable',
  SSH_HOST_KEY_CHANGED: 'unreachable',
  SSH_AUTH_FAILED: 'unreachable',
  RELAY_DRAINING: 'unreachable',
  LIMIT_REACHED: 'refused',
  CLUSTER_UNAVAILABLE: 'unreachable',
  INTERNAL: 'internal',
  CONFIG_INVALID: 'config',
  TLS_PIN_MISMATCH: 'tls',
  TLS_VERIFY_FAILED: 'tls',
  RELAY_UNREACHABLE: 'unreachable',
  AUDIT_UNAVAILABLE: 'internal',
  AUDIT_FULL: 'internal',
  AUDIT_THROTTLED: 'internal',
  AUDIT_RECORD_TOO_LARGE: 'internal',
};

/**
 * The exit status for `error`: by the kind of its {@link RelayErrorCode}; 0 for
 * commander's `--help` and `--version`; {@link exitStatusByKind.usage} for commander's other
 * errors (unknown option, missing or invalid argument); `internal` for anything else.
 */
export function exitStatusFor(error: unknown): number {
  if (isRelayError(error)) return exitStatusByKind[failureKindByCode[error.code]];
  const { code, exitCode } = (error ?? {}) as { code?: unknown; exitCode?: unknown };
  // commander's CommanderError: exitCode 0 for --help and --version.
  if (typeof code === 'string' && code.startsWith('commander.')) return exitCode === 0 ? 0 : exitStatusByKind.usage;
  return exitStatusByKind.internal;
}

/** The exit status table as `--help` shows it. */
export const exitStatusHelp = [
  '',
  'Exit status:',
  '  0   success',
  '  64  usage: wrong flags or arguments',
  '  69  unreachable: the relay, the target or its agent cannot be reached',
  '  70  internal: anything unexpected',
  '  75  refused for now: the target is busy (--takeover) or a limit is reached',
  "  76  TLS: the relay's certificate is not trusted (--ca, --fingerprint, its names)",
  '  77  auth: the credential is missing, refused or does not cover the target',
  "  78  config: a configuration or a flag's file cannot be used",
].join('\n');
