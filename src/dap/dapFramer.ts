import { RelayError } from '../common/relayError.js';

/**
 * One framed DAP message. `frame` is the message in canonical form,
 * `Content-Length: N\r\n\r\n` then the body: the exact bytes that arrived when their
 * header was already canonical (no copy), else a canonical header written by the
 * framer followed by the body (see {@link DapFramer} for which headers are accepted).
 * `body` is a view of its JSON part.
 */
export interface DapFrame {
  readonly frame: Buffer;
  readonly body: Buffer;
  /** False when the header that arrived was not canonical and `frame` was rebuilt. */
  readonly arrivedCanonical: boolean;
}

const headerEnd = Buffer.from('\r\n\r\n');
/** Bound on the header part; real headers are ~25 bytes. */
const maxHeaderBytes = 1024;
/** The header every DAP implementation writes (debugpy, VS Code), before its digits. */
const plainHeaderStart = Buffer.from('Content-Length: ', 'latin1');
const [digit0, digit9, cr, lf] = [0x30, 0x39, 0x0d, 0x0a];
/** Most digits a Content-Length may have (far above any message bound). */
const maxLengthDigits = 12;
/**
 * A header line: a field name of RFC 9110 token characters from the first column up
 * to the colon (so no leading whitespace, no folded line, no whitespace before the
 * colon), then a value of printable ASCII or tabs.
 */
const fieldLine = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):([\t\x20-\x7e]*)$/;
/** A Content-Length value: 1 to {@link maxLengthDigits} digits, optional spaces or tabs around them. */
const lengthValue = /^[\t ]*([0-9]{1,12})[\t ]*$/;

/**
 * Incremental parser for the DAP base protocol framing
 * (https://microsoft.github.io/debug-adapter-protocol/overview#base-protocol) that
 * hands on every message in canonical form. debugpy's reader looks up exactly
 * `Content-Length` among the header lines and its reader thread dies on anything
 * else, so what the relay forwards is always `Content-Length: N\r\n\r\n` followed by
 * N bytes of UTF-8 JSON.
 *
 * The header rule (a header is the bytes before the first `\r\n\r\n`, at most 1024):
 *
 * - `Content-Length: N\r\n\r\n`, N of 1 to 12 digits without a leading zero, is
 *   canonical and passes as the exact bytes that arrived (the path of every message).
 * - Any other header is read line by line (each line ends with `\r\n`) and accepted
 *   only when it is unambiguous: every line is `name:value`, the name made of RFC 9110
 *   token characters from the first column right up to the colon (no leading
 *   whitespace, no folded line, no whitespace before the colon), the value of printable
 *   ASCII or tabs; exactly one line is named `Content-Length`, compared
 *   case-insensitively; its value is 1 to 12 digits with optional spaces or tabs
 *   around them (leading zeros allowed). Such a message is re-framed with a canonical
 *   header; the other fields (e.g. `Content-Type`) are dropped.
 * - Anything else is refused with a `BAD_REQUEST` {@link RelayError} and nothing of
 *   it is handed on: a duplicate Content-Length (even with the same value),
 *   whitespace before the colon, a line starting with whitespace, a line without a
 *   colon, an empty name, a value that is not digits, a bare CR or LF, a control or
 *   non-ASCII byte, no Content-Length, a header longer than 1024 bytes.
 *
 * Bytes may arrive in any chunking; {@link push} returns every message completed by
 * the chunk. A message larger than `maxMessageBytes` (`MESSAGE_TOO_LARGE`) or a
 * refused header throws and leaves the parser unusable.
 */
export class DapFramer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Body length of the message whose header has been read, or -1. */
  private bodyLength = -1;
  private headerLength = 0;
  /** Whether the header that has been read was canonical. */
  private headerCanonical = true;
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
        // Nothing left after the last message (the usual case): no header to look for.
        if (this.bodyLength < 0 && (at === data.length || !this.readHeader(data, at))) break;
        const total = this.headerLength + this.bodyLength;
        if (data.length - at < total) break;
        const arrived = data.subarray(at, at + total);
        const body = arrived.subarray(this.headerLength);
        if (this.headerCanonical) frames.push({ frame: arrived, body, arrivedCanonical: true });
        else frames.push(canonicalFrame(body));
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
    let length = this.readPlainHeader(data, at);
    this.headerCanonical = length !== undefined;
    length ??= this.readGeneralHeader(data, at);
    if (length === undefined) return false;
    if (length > this.maxMessageBytes) {
      throw new RelayError('MESSAGE_TOO_LARGE', `DAP message of ${length} bytes exceeds the bound of ${this.maxMessageBytes} bytes (dap.maxMessageBytes)`);
    }
    this.bodyLength = length;
    return true;
  }

  /**
   * The body length of a header at `at` that is exactly `Content-Length: N\r\n\r\n`
   * (N without a leading zero), read byte by byte without making strings: the form
   * every peer sends, on the path of every message. Any other (or incomplete) header
   * gives undefined, for the general parser. Sets `headerLength`.
   */
  private readPlainHeader(data: Buffer, at: number): number | undefined {
    const start = plainHeaderStart.length;
    if (data.length - at < start + 5) return undefined;
    for (let i = 0; i < start; i++) if (data[at + i] !== plainHeaderStart[i]) return undefined;
    const first = at + start;
    let i = first;
    let length = 0;
    while (i < data.length && data[i]! >= digit0 && data[i]! <= digit9 && i - first < maxLengthDigits) length = length * 10 + data[i++]! - digit0;
    if (i === first || (data[first] === digit0 && i - first > 1) || data.length - i < 4) return undefined;
    if (data[i] !== cr || data[i + 1] !== lf || data[i + 2] !== cr || data[i + 3] !== lf) return undefined;
    this.headerLength = i + 4 - at;
    return length;
  }

  /** Any other header, under the rule of {@link DapFramer}; sets `headerLength`. */
  private readGeneralHeader(data: Buffer, at: number): number | undefined {
    const end = data.indexOf(headerEnd, at);
    if (end < 0) {
      // Up to 3 bytes of the separator may already be here after a header of the full
      // 1024 bytes: only more than that is too long, whatever the chunking.
      if (data.length - at > maxHeaderBytes + headerEnd.length - 1) throw new RelayError('BAD_REQUEST', 'DAP header too long');
      return undefined;
    }
    if (end - at > maxHeaderBytes) throw new RelayError('BAD_REQUEST', 'DAP header too long');
    const header = data.subarray(at, end).toString('latin1');
    let length: number | undefined;
    for (const line of header.split('\r\n')) {
      const field = fieldLine.exec(line);
      if (!field) throw new RelayError('BAD_REQUEST', `malformed DAP header line ${JSON.stringify(line.slice(0, 40))}`);
      if (field[1]!.toLowerCase() !== 'content-length') continue;
      if (length !== undefined) throw new RelayError('BAD_REQUEST', 'DAP header with more than one Content-Length');
      const value = lengthValue.exec(field[2]!);
      if (!value) throw new RelayError('BAD_REQUEST', 'malformed DAP Content-Length');
      length = Number(value[1]);
    }
    if (length === undefined) throw new RelayError('BAD_REQUEST', 'DAP header without Content-Length');
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

/** The canonical header of a body of `length` bytes. */
export function canonicalHeader(length: number): Buffer {
  return Buffer.from(`Content-Length: ${length}\r\n\r\n`, 'latin1');
}

/** A frame rebuilt around `body` with a canonical header (one copy, off the usual path). */
function canonicalFrame(body: Buffer): DapFrame {
  const header = canonicalHeader(body.length);
  const frame = Buffer.concat([header, body]);
  return { frame, body: frame.subarray(header.length), arrivedCanonical: false };
}

/** Frames one DAP message (a JSON-serialisable object) with its Content-Length header. */
export function encodeDapMessage(message: object): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([canonicalHeader(body.length), body]);
}
