import { parseBoundedJson } from '../common/jsonDepth.js';
import { printable } from '../common/printable.js';
import { isWireErrorCode, RelayError, type RelayErrorCode } from '../common/relayError.js';
import { httpErrorBody } from '../protocol/controlMessages.js';

/** Codes to assume when an HTTP refusal has no parsable JSON body. */
const codeByStatus: Readonly<Record<number, RelayErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'AUTH_FAILED',
  429: 'AUTH_LOCKED',
  404: 'NOT_FOUND',
  502: 'AGENT_OPEN_FAILED',
  503: 'RELAY_DRAINING',
  504: 'AGENT_OPEN_TIMEOUT',
};

/** Removes every occurrence of `secret` from `text` (defence in depth: a relay message is echoed to the user). */
export function redactSecret(text: string, secret: string | undefined): string {
  return secret && secret.length > 0 ? text.split(secret).join('***') : text;
}

/**
 * The {@link RelayError} for a refusal the relay sent (`{code, message}` of an HTTP
 * error body or a `{"ok":false}` hello reply). An unknown code is kept in the message
 * and mapped to `INTERNAL`.
 */
export function refusalError(code: string, message: string, secret?: string): RelayError {
  const text = printable(redactSecret(message, secret));
  if (isWireErrorCode(code)) return new RelayError(code, `relay refused: ${text}`);
  return new RelayError('INTERNAL', `relay refused: ${text} (relay code ${JSON.stringify(code.slice(0, 64))})`);
}

/** The {@link RelayError} for an HTTP refusal: the JSON body if it is one (docs/protocol.md §3), else the status. */
export function httpRefusalError(status: number, statusText: string, body: string, secret?: string): RelayError {
  try {
    const parsed = httpErrorBody.safeParse(parseBoundedJson(body, 'refusal body'));
    if (parsed.success) return refusalError(parsed.data.error.code, parsed.data.error.message, secret);
  } catch {
    // not JSON: fall through to the status line
  }
  const code = codeByStatus[status] ?? 'INTERNAL';
  return new RelayError(code, `relay refused: HTTP ${status} ${statusText}`.trimEnd());
}

/** `message (CODE)`: how a client shows a {@link RelayError} to a person. */
export function describeRelayError(error: unknown): string {
  if (error instanceof RelayError) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}
