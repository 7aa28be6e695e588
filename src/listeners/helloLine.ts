import type { Readable } from 'node:stream';
import { parseBoundedJson, type JsonDepthBound } from '../common/jsonDepth.js';
import { RelayError } from '../common/relayError.js';
import type { Credential } from '../auth/principal.js';
import { helloLine, protocolVersion, type HelloLine } from '../protocol/controlMessages.js';

/** A hello line and the bytes that followed it in the same read. */
export interface HelloRead {
  readonly line: string;
  readonly leftover: Buffer;
}

/** Bounds of {@link readHelloLine}. */
export interface HelloBounds {
  /** Bound on the line, newline included (docs/protocol.md §4: 8 KiB). */
  readonly maxBytes: number;
  /** Time allowed for the whole line (config `limits.handshakeTimeoutMs`). */
  readonly timeoutMs: number;
}

/**
 * Reads the tcps hello line (docs/protocol.md §4): bytes up to the first `\n`, within
 * `maxBytes` (`MESSAGE_TOO_LARGE`) and `timeoutMs` (`HANDSHAKE_TIMEOUT`). Leaves the
 * stream paused, so no byte after the line is lost before its next reader attaches.
 */
export function readHelloLine(stream: Readable, bounds: HelloBounds): Promise<HelloRead> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error: RelayError | undefined, read?: HelloRead): void => {
      clearTimeout(timer);
      stream.pause();
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      stream.off('error', onEnd);
      if (error) reject(error);
      else resolve(read!);
    };
    const onData = (chunk: Buffer): void => {
      const newline = chunk.indexOf(0x0a);
      const used = newline < 0 ? chunk.length : newline + 1;
      if (size + used > bounds.maxBytes) {
        return finish(new RelayError('MESSAGE_TOO_LARGE', `hello line exceeds ${bounds.maxBytes} bytes`));
      }
      if (newline < 0) {
        chunks.push(chunk);
        size += chunk.length;
        return;
      }
      chunks.push(chunk.subarray(0, newline));
      const line = Buffer.concat(chunks).toString('utf8');
      finish(undefined, { line, leftover: Buffer.from(chunk.subarray(newline + 1)) });
    };
    const onEnd = (): void => finish(new RelayError('BAD_REQUEST', 'connection closed before the hello line'));
    const timer = setTimeout(() => finish(new RelayError('HANDSHAKE_TIMEOUT', `no hello line within ${bounds.timeoutMs} ms`)), bounds.timeoutMs);
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onEnd);
    stream.resume();
  });
}

/**
 * Parses and validates a hello line. Throws `BAD_REQUEST` (not JSON, nested deeper
 * than `depth.maxDepth` (default 64), unknown op, missing fields) or
 * `PROTOCOL_VERSION`. Messages never quote the line (it may carry the secret).
 */
export function parseHelloLine(line: string, depth?: JsonDepthBound): HelloLine {
  const value = parseBoundedJson(line, 'hello line', depth);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RelayError('BAD_REQUEST', 'hello line is not a JSON object');
  }
  const version = (value as { dbgrelay?: unknown }).dbgrelay;
  if (version === undefined) throw new RelayError('BAD_REQUEST', 'hello line has no "dbgrelay" version field');
  if (version !== protocolVersion) {
    throw new RelayError('PROTOCOL_VERSION', `unsupported protocol version; this relay speaks dbgrelay ${protocolVersion}`);
  }
  const parsed = helloLine.safeParse(value);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || 'op'))].join(', ');
    throw new RelayError('BAD_REQUEST', `malformed hello line (${fields})`);
  }
  return parsed.data;
}

/**
 * The credential a hello line carries, if any: `secret` (relay secret, agent secret
 * or a target's attach secret) or `token` (a bearer token, as `Authorization: Bearer`
 * over wss). Both at once is `BAD_REQUEST`.
 */
export function credentialFromHello(hello: HelloLine): Credential | undefined {
  if (hello.secret && hello.token) throw new RelayError('BAD_REQUEST', 'a hello line carries either "secret" or "token", not both');
  if (hello.token) return { kind: 'bearer', token: hello.token };
  return hello.secret ? { kind: 'secret', secret: hello.secret } : undefined;
}
