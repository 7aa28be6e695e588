import { isRelayError, type RelayErrorCode } from '../../src/common/relayError.js';

/**
 * What every fuzz target asserts of the parser it drives: it returns a value or throws a
 * `RelayError` with one of the codes its contract names. Anything else (a `TypeError`,
 * a `RangeError` from deep recursion, a `RelayError` with another code) is a finding:
 * it is thrown again, wrapped, so that the fuzzer stops and saves the input.
 */
export class ContractViolation extends Error {
  override readonly name = 'ContractViolation';
}

/** Throws a {@link ContractViolation} unless `error` is a RelayError with one of `codes`. */
export function expectRelayError(error: unknown, codes: readonly RelayErrorCode[], what: string): void {
  if (isRelayError(error) && codes.includes(error.code)) return;
  const shown = isRelayError(error) ? `RelayError ${error.code}: ${error.message}` : String((error as Error)?.stack ?? error);
  throw new ContractViolation(`${what} threw outside its contract (expected RelayError ${codes.join('/')}): ${shown}`, { cause: error });
}

/** Runs `parse`; returns its value, or undefined when it threw a RelayError within `codes`. */
export function within<T>(codes: readonly RelayErrorCode[], what: string, parse: () => T): T | undefined {
  try {
    return parse();
  } catch (error) {
    expectRelayError(error, codes, what);
    return undefined;
  }
}

/** Throws a {@link ContractViolation} saying `why` unless `condition` holds. */
export function check(condition: boolean, why: string): asserts condition {
  if (!condition) throw new ContractViolation(why);
}

/**
 * Cuts `data` into chunks at the offsets `cuts` picks (a chunking the fuzzer controls,
 * as TCP, TLS records and WebSocket frames cut a stream anywhere).
 */
export function chunked(data: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let at = 0;
  for (const point of points) {
    if (point > at) chunks.push(data.subarray(at, point));
    at = Math.max(at, point);
  }
  if (at < data.length) chunks.push(data.subarray(at));
  return chunks;
}

/** A fuzz target: libFuzzer's `LLVMFuzzerTestOneInput` for Jazzer.js. */
export type FuzzTarget = (data: Buffer) => void;
