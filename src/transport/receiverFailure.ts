import { RelayError } from '../common/relayError.js';

/**
 * The error a transport closes with when the code receiving its bytes threw: the
 * thrower's own {@link RelayError} (e.g. `BAD_REQUEST` for a message nested too deep),
 * or `INTERNAL` naming what was thrown. Only that connection ends; the process lives.
 */
export function receiverFailure(error: unknown): RelayError {
  if (error instanceof RelayError) return error;
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new RelayError('INTERNAL', `failed to handle the bytes of this connection (${what.slice(0, 200)})`, { cause: error });
}
