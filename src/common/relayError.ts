/**
 * Codes a relay may send on the wire, in an HTTP error body, a hello reply or a
 * control `error` message: exactly the table of docs/protocol.md §8. A client maps a
 * code it does not know to `INTERNAL`, keeping the relay's code in the message.
 */
export const wireErrorCodes = [
  'AUTH_REQUIRED',
  'AUTH_FAILED',
  'AUTH_LOCKED',
  'BAD_REQUEST',
  'PROTOCOL_VERSION',
  'HANDSHAKE_TIMEOUT',
  'TARGET_NAME_INVALID',
  'TARGET_NAME_IN_USE',
  'UNKNOWN_TARGET',
  'UNKNOWN_SESSION',
  'AGENT_OPEN_FAILED',
  'AGENT_OPEN_TIMEOUT',
  'AGENT_GONE',
  'HEARTBEAT_TIMEOUT',
  'MESSAGE_TOO_LARGE',
  'NOT_FOUND',
  'TARGET_BUSY',
  'SSH_UNREACHABLE',
  'SSH_HOST_KEY_UNKNOWN',
  'SSH_HOST_KEY_CHANGED',
  'SSH_AUTH_FAILED',
  'RELAY_DRAINING',
  'LIMIT_REACHED',
  // Several instances: the shared store or the instance holding the target cannot be reached.
  'CLUSTER_UNAVAILABLE',
  // Anything unexpected: a refusal with HTTP status 500, or the error response of a request a relay guard failed on.
  'INTERNAL',
] as const;

/** Codes of errors that stay inside one program (logs, exit status, metrics); never sent on the wire. */
export const localErrorCodes = [
  'CONFIG_INVALID',
  'TLS_PIN_MISMATCH',
  'TLS_VERIFY_FAILED',
  'RELAY_UNREACHABLE',
  'AUDIT_UNAVAILABLE',
  // The audit log cannot take a record without deleting records younger than audit.minRetentionMs.
  'AUDIT_FULL',
  // A session wrote more audit records than audit.maxBytesPerSessionPerMinute allows.
  'AUDIT_THROTTLED',
  // An audited request's record would cut or drop code it carries (audit.maxValueChars, audit.maxRecordBytes).
  'AUDIT_RECORD_TOO_LARGE',
] as const;

/** A code the relay sends on the wire (docs/protocol.md §8). */
export type WireErrorCode = (typeof wireErrorCodes)[number];

/**
 * The one error type of dbgrelay. Programs (tests, metrics, HTTP status mapping)
 * switch on {@link RelayError.code}, never on the message text: one of
 * {@link wireErrorCodes} or {@link localErrorCodes}.
 */
export type RelayErrorCode = WireErrorCode | (typeof localErrorCodes)[number];

const wireCodeSet: ReadonlySet<string> = new Set(wireErrorCodes);

/** True when `code` is one of the {@link wireErrorCodes} or {@link localErrorCodes}. */
export function isRelayErrorCode(code: string): code is RelayErrorCode {
  return wireCodeSet.has(code) || (localErrorCodes as readonly string[]).includes(code);
}

/** True when `code` is one of the {@link wireErrorCodes}. */
export function isWireErrorCode(code: string): code is WireErrorCode {
  return wireCodeSet.has(code);
}

/** Error with a stable {@link RelayErrorCode}; its message never carries a credential. */
export class RelayError extends Error {
  override readonly name = 'RelayError';

  constructor(
    readonly code: RelayErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `err` is a {@link RelayError}, optionally with the given code. */
export function isRelayError(err: unknown, code?: RelayErrorCode): err is RelayError {
  return err instanceof RelayError && (code === undefined || err.code === code);
}

const httpStatusByCode: Partial<Record<RelayErrorCode, number>> = {
  AUTH_REQUIRED: 401,
  AUTH_FAILED: 401,
  AUTH_LOCKED: 429,
  BAD_REQUEST: 400,
  TARGET_NAME_INVALID: 400,
  PROTOCOL_VERSION: 400,
  UNKNOWN_TARGET: 404,
  UNKNOWN_SESSION: 404,
  NOT_FOUND: 404,
  TARGET_NAME_IN_USE: 409,
  TARGET_BUSY: 409,
  AGENT_OPEN_FAILED: 502,
  AGENT_GONE: 502,
  AGENT_OPEN_TIMEOUT: 504,
  // The relay's own SSH connection to a target failed: an upstream problem, not the client's credential.
  SSH_UNREACHABLE: 502,
  SSH_HOST_KEY_UNKNOWN: 502,
  SSH_HOST_KEY_CHANGED: 502,
  SSH_AUTH_FAILED: 502,
  HANDSHAKE_TIMEOUT: 408,
  MESSAGE_TOO_LARGE: 413,
  // The relay is shutting down: try another instance (a load balancer retries elsewhere).
  RELAY_DRAINING: 503,
  // A configured bound (limits.max*) is reached: try again later.
  LIMIT_REACHED: 429,
  // The target is held by another instance that cannot be reached now: try again shortly.
  CLUSTER_UNAVAILABLE: 503,
};

/** HTTP status for a refusal with `code` (docs/protocol.md §3). */
export function httpStatusFor(code: RelayErrorCode): number {
  return httpStatusByCode[code] ?? 500;
}
