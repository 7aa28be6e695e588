import type { IncomingMessage } from 'node:http';
import { RelayError } from '../common/relayError.js';

/**
 * The JSON object of a console request body, read up to `maxBytes` (config
 * `limits.maxControlMessageBytes`, the bound on any small JSON message to the relay).
 * Throws `MESSAGE_TOO_LARGE` past it and `BAD_REQUEST` for anything but a JSON object.
 */
export async function readJsonObject(request: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new RelayError('MESSAGE_TOO_LARGE', `a console request body may hold at most ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = size === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new RelayError('BAD_REQUEST', 'the request body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RelayError('BAD_REQUEST', 'the request body must be a JSON object');
  return value as Record<string, unknown>;
}
