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
/** The header every DAP implementation writes (debugpy, VS Code), before its digits. */
const plainHeaderStart = Buffer.from('Content-Length: ', 'latin1');
const [digit0, digit9, cr, lf] = [0x30, 0x39, 0x0d, 0x0a];

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
    // A large body arriving in many chunks is joined once, when it is complete.
    if (this.bodyLength >= 0 && this.pendingBytes < this.headerLength + this.bodyLength) return [];
    const data = this.takeAll();
    const frames: DapFrame[] = [];
    let at = 0;
    try {
      for (;;) {
        if (this.bodyLength < 0 && !this.readHeader(data, at)) break;
        const total = this.headerLength + this.bodyLength;
        if (data.length - at < total) break;
        const frame = data.subarray(at, at + total);
        frames.push({ frame, body: frame.subarray(this.headerLength) });
        at += total;
        this.bodyLength = -1;
      }
    } catch (err) {
      this.failed = true;
      throw err;
    }
    if (at < data.length) {
      this.pending = [at === 0 ? data : data.subarray(at)];
      this.pendingBytes = data.length - at;
    }
    return frames;
  }

  /** Bytes received but not yet part of a complete message. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** Reads the header that starts at `at`; false while it is incomplete. */
  private readHeader(data: Buffer, at: number): boolean {
    const length = this.readPlainHeader(data, at) ?? this.readGeneralHeader(data, at);
    if (length === undefined) return false;
    if (length > this.maxMessageBytes) {
      throw new RelayError(
        'MESSAGE_TOO_LARGE',
        `DAP message of ${length} bytes exceeds the bound of ${this.maxMessageBytes} bytes (dap.maxMessageBytes)`,
      );
    }
    this.bodyLength = length;
    return true;
  }

  /**
   * The body length of a header at `at` that is exactly `Content-Length: N\r\n\r\n`,
   * read byte by byte without making strings: the form every peer sends, on the path
   * of every message. Any other (or incomplete) header gives undefined, for the
   * general parser. Sets `headerLength`.
   */
  private readPlainHeader(data: Buffer, at: number): number | undefined {
    const start = plainHeaderStart.length;
    if (data.length - at < start + 5) return undefined;
    for (let i = 0; i < start; i++) if (data[at + i] !== plainHeaderStart[i]) return undefined;
    let i = at + start;
    let length = 0;
    while (i < data.length && data[i]! >= digit0 && data[i]! <= digit9 && i - at - start < 12) length = length * 10 + data[i++]! - digit0;
    if (i === at + start || data.length - i < 4) return undefined;
    if (data[i] !== cr || data[i + 1] !== lf || data[i + 2] !== cr || data[i + 3] !== lf) return undefined;
    this.headerLength = i + 4 - at;
    return length;
  }

  /** Any header with a Content-Length field among others; sets `headerLength`. */
  private readGeneralHeader(data: Buffer, at: number): number | undefined {
    const end = data.indexOf(headerEnd, at);
    if (end < 0) {
      if (data.length - at > maxHeaderBytes) throw new RelayError('BAD_REQUEST', 'DAP header too long');
      return undefined;
    }
    if (end - at > maxHeaderBytes) throw new RelayError('BAD_REQUEST', 'DAP header too long');
    const header = data.subarray(at, end).toString('latin1');
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
    this.headerLength = end - at + headerEnd.length;
    return length;
  }

  private takeAll(): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return all;
  }
}

/** Frames one DAP message (a JSON-serialisable object) with its Content-Length header. */
export function encodeDapMessage(message: object): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'latin1'), body]);
}
