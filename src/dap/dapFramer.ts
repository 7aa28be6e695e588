import { RelayError } from '../common/relayError.js';

/**
 * One framed DAP message as it arrived: `frame` holds the exact bytes (header and
 * body) so a message can be forwarded untouched; `body` is a view of its JSON part.
 */
export interface DapFrame {
  readonly frame: Buffer;
  readonly body: Buffer;
}

const headerEnd = Buffer.from('\r\n\r\n');
/** Bound on the header part; real headers are ~25 bytes. */
const maxHeaderBytes = 1024;

/**
 * Incremental parser for the DAP base protocol framing
 * (https://microsoft.github.io/debug-adapter-protocol/overview#base-protocol):
 * `Content-Length: N\r\n` (other header fields allowed and ignored) `\r\n` then N
 * bytes of UTF-8 JSON. Bytes may arrive in any chunking; {@link push} returns every
 * message completed by the chunk. A message larger than `maxMessageBytes` or a
 * malformed header throws a {@link RelayError} and leaves the parser unusable.
 */
export class DapFramer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Body length of the message whose header has been read, or -1. */
  private bodyLength = -1;
  private headerLength = 0;
  private failed = false;

  constructor(private readonly maxMessageBytes: number) {}

  /** Feeds bytes; returns the messages they complete, in order. */
  push(chunk: Buffer): DapFrame[] {
    if (this.failed) throw new RelayError('BAD_REQUEST', 'DAP stream already failed to parse');
    if (chunk.length === 0) return [];
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const frames: DapFrame[] = [];
    try {
      for (;;) {
        if (this.bodyLength < 0 && !this.readHeader()) break;
        const total = this.headerLength + this.bodyLength;
        if (this.pendingBytes < total) break;
        const all = this.takeAll();
        const frame = all.subarray(0, total);
        frames.push({ frame, body: frame.subarray(this.headerLength) });
        this.restore(all.subarray(total));
        this.bodyLength = -1;
      }
    } catch (err) {
      this.failed = true;
      throw err;
    }
    return frames;
  }

  /** Bytes received but not yet part of a complete message. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  private readHeader(): boolean {
    const all = this.takeAll();
    this.restore(all);
    const end = all.indexOf(headerEnd);
    if (end < 0) {
      if (all.length > maxHeaderBytes) throw new RelayError('BAD_REQUEST', 'DAP header too long');
      return false;
    }
    if (end > maxHeaderBytes) throw new RelayError('BAD_REQUEST', 'DAP header too long');
    const header = all.subarray(0, end).toString('latin1');
    let length = -1;
    for (const line of header.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon < 0) throw new RelayError('BAD_REQUEST', 'malformed DAP header line');
      if (line.slice(0, colon).trim().toLowerCase() !== 'content-length') continue;
      const value = line.slice(colon + 1).trim();
      if (!/^\d{1,12}$/.test(value)) throw new RelayError('BAD_REQUEST', 'malformed DAP Content-Length');
      length = Number(value);
    }
    if (length < 0) throw new RelayError('BAD_REQUEST', 'DAP header without Content-Length');
    if (length > this.maxMessageBytes) {
      throw new RelayError(
        'MESSAGE_TOO_LARGE',
        `DAP message of ${length} bytes exceeds the bound of ${this.maxMessageBytes} bytes (dap.maxMessageBytes)`,
      );
    }
    this.headerLength = end + headerEnd.length;
    this.bodyLength = length;
    return true;
  }

  private takeAll(): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return all;
  }

  private restore(rest: Buffer): void {
    if (rest.length > 0) {
      this.pending = [rest];
      this.pendingBytes = rest.length;
    }
  }
}

/** Frames one DAP message (a JSON-serialisable object) with its Content-Length header. */
export function encodeDapMessage(message: object): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'latin1'), body]);
}
