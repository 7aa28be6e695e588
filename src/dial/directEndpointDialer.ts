import { RelayError } from '../common/relayError.js';
import type { Transport } from '../transport/transport.js';
import type { ClientIdentity } from './clientIdentity.js';
import { dialSession } from './relayDialer.js';
import { isTlsFailure, tlsFailureMessage } from './tlsFailureHint.js';
import type { RelayEndpoint } from './relayEndpoint.js';
import type { TlsTrust } from './tlsTrust.js';

/**
 * The target name a direct endpoint always answers to, and the one sent when the
 * caller names none: agent-py's `enable_attach(secret, address=...)` (the ptvsd
 * model) serves one process, so the name only has to be agreed on.
 */
export const directEndpointTarget = 'ptvsd';

/** Default port of a direct endpoint (ptvsd's). */
export const defaultDirectEndpointPort = 5678;

/** How to reach and authenticate to a direct endpoint (`tcps://[SECRET@]host:port`). */
export interface DirectEndpointDialOptions {
  /** A `tcps` endpoint; its `secret@` is used when `secret` is not given. */
  readonly endpoint: RelayEndpoint;
  readonly trust: TlsTrust;
  /** The endpoint's secret. Never put in a message. */
  readonly secret?: string;
  /** Target name to ask for (default {@link directEndpointTarget}). */
  readonly target?: string | undefined;
  /** Client certificate, offered if the endpoint asks for one. */
  readonly identity?: ClientIdentity;
  /** Bound on the whole dial (TLS and hello). */
  readonly timeoutMs?: number;
}

/** The same error, worded for an endpoint instead of a relay (codes are unchanged). */
export function asEndpointError(error: unknown): unknown {
  if (!(error instanceof RelayError)) return error;
  // A certificate's fix differs for an endpoint (its certfile, not --public-name): worded again from the facts.
  const certificateMessage = isTlsFailure(error.cause) ? tlsFailureMessage(error.cause, 'debug endpoint') : undefined;
  return new RelayError(error.code, certificateMessage ?? error.message.replace(/\brelay\b/g, 'debug endpoint'), { cause: error.cause ?? error });
}

/**
 * Opens one DAP session with a direct debug endpoint (a Python process that called
 * agent-py's `enable_attach(secret, address, certfile, keyfile)`), which speaks the
 * relay's tcps protocol (docs/protocol.md §4): verified TLS 1.2+ (`trust`: CA file,
 * system store or `sha256:` pins), an `attach` hello with the target name and the
 * secret, the `ok` line, then raw DAP on the returned transport. Never sends a bearer
 * token. Rejects with the endpoint's code (`AUTH_FAILED`, `AUTH_REQUIRED`,
 * `UNKNOWN_TARGET`, ...), or `TLS_VERIFY_FAILED`, `TLS_PIN_MISMATCH`,
 * `RELAY_UNREACHABLE`, `BAD_REQUEST` (not a tcps endpoint); no message carries the
 * secret.
 */
export async function dialDirectEndpoint(options: DirectEndpointDialOptions): Promise<Transport> {
  const { endpoint } = options;
  if (endpoint.scheme !== 'tcps') {
    throw new RelayError('BAD_REQUEST', `a direct debug endpoint is dialed with tcps://, not ${endpoint.scheme}://`);
  }
  const secret = options.secret ?? endpoint.secret;
  try {
    return await dialSession({
      endpoint,
      trust: options.trust,
      target: options.target ?? directEndpointTarget,
      ...(secret !== undefined ? { secret } : {}),
      ...(options.identity !== undefined ? { identity: options.identity } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
  } catch (error) {
    throw asEndpointError(error);
  }
}
