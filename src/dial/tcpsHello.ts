import type { TLSSocket } from 'node:tls';
import { parseBoundedJson } from '../common/jsonDepth.js';
import { RelayError } from '../common/relayError.js';
import { helloReply, type HelloLine, type TargetInfo } from '../protocol/controlMessages.js';
import { refusalError } from './relayRefusal.js';

/** Accepted reply to a hello line, with the bytes that followed its newline. */
export interface HelloAccepted {
  readonly targets?: TargetInfo[];
  /** More targets follow the listed ones (revision 1.9, docs/protocol.md §7). */
  readonly next?: string;
  /** The relay answers heartbeats and closes a session silent this long (revision 1.4). */
  readonly heartbeatTimeoutMs?: number;
  /** Bytes after the reply's `\n` (the first DAP bytes, for `attach`). */
  readonly leftover: Buffer;
}

/** Options of {@link exchangeHello}. */
export interface HelloOptions {
  /** Bound on the reply line, newline included. */
  readonly maxReplyBytes: number;
  readonly timeoutMs: number;
  /** `host:port` for messages. */
  readonly where: string;
}

/**
 * Sends a tcps hello line and reads the relay's one-line reply (docs/protocol.md §4).
 * Resolves on `{"ok":true}`; rejects with the relay's code on `{"ok":false}`, with
 * `BAD_REQUEST` on a malformed reply, `MESSAGE_TOO_LARGE` past `maxReplyBytes`, and
 * `RELAY_UNREACHABLE` if the connection ends or the time runs out first. On
 * success the socket is left paused with no listeners of ours: attach the next
 * reader, then `resume()` it.
 */
export function exchangeHello(socket: TLSSocket, hello: HelloLine, options: HelloOptions): Promise<HelloAccepted> {
  return new Promise<HelloAccepted>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (error: RelayError | undefined, value?: HelloAccepted): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (error) {
        socket.on('error', () => undefined);
        socket.destroy();
        reject(error);
      } else {
        resolve(value!);
      }
    };
    const onData = (chunk: Buffer): void => {
      const newline = chunk.indexOf(0x0a);
      const lineBytes = received + (newline < 0 ? chunk.length : newline + 1);
      if (lineBytes > options.maxReplyBytes) {
        finish(new RelayError('MESSAGE_TOO_LARGE', `the relay at ${options.where} sent a reply line over ${options.maxReplyBytes} bytes`));
        return;
      }
      if (newline < 0) {
        chunks.push(chunk);
        received += chunk.length;
        return;
      }
      // Stop the flow before handing over, so no DAP byte is emitted with no listener.
      socket.pause();
      const line = Buffer.concat([...chunks, chunk.subarray(0, newline)]).toString('utf8');
      const leftover = Buffer.from(chunk.subarray(newline + 1));
      let reply;
      try {
        reply = helloReply.parse(parseBoundedJson(line, 'hello reply'));
      } catch {
        finish(new RelayError('BAD_REQUEST', `the relay at ${options.where} sent a malformed hello reply`));
        return;
      }
      if (reply.ok) {
        finish(undefined, {
          leftover,
          ...(reply.targets ? { targets: reply.targets } : {}),
          ...(reply.next !== undefined ? { next: reply.next } : {}),
          ...(reply.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: reply.heartbeatTimeoutMs } : {}),
        });
      } else finish(refusalError(reply.error.code, reply.error.message, hello.secret ?? hello.token));
    };
    const onError = (error: Error): void => finish(new RelayError('RELAY_UNREACHABLE', `connection to the relay at ${options.where} failed: ${error.message}`, { cause: error }));
    const onClose = (): void => finish(new RelayError('RELAY_UNREACHABLE', `the relay at ${options.where} closed the connection without answering the hello`));
    const timer = setTimeout(
      () => finish(new RelayError('RELAY_UNREACHABLE', `the relay at ${options.where} did not answer the hello within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.write(`${JSON.stringify(hello)}\n`);
  });
}
