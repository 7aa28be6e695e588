import { describe, expect, it } from 'vitest';
import { DapFramer, encodeDapMessage } from '../../../src/dap/dapFramer.js';
import { isRelayError } from '../../../src/common/relayError.js';

const messages = [
  { seq: 1, type: 'request', command: 'initialize', arguments: { adapterID: 'python', note: 'héllo ✓' } },
  { seq: 2, type: 'event', event: 'output', body: { output: 'x'.repeat(300) } },
  { seq: 3, type: 'response', request_seq: 1, success: true, command: 'initialize' },
];
const stream = Buffer.concat(messages.map((m) => encodeDapMessage(m)));

function bodies(framer: DapFramer, chunks: Buffer[]): unknown[] {
  return chunks.flatMap((chunk) => framer.push(chunk)).map((f) => JSON.parse(f.body.toString('utf8')));
}

describe('DapFramer', () => {
  it('parses messages split at every byte boundary', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const framer = new DapFramer(1024 * 1024);
      expect(bodies(framer, [stream.subarray(0, cut), stream.subarray(cut)])).toEqual(messages);
      expect(framer.bufferedBytes).toBe(0);
    }
  });

  it('parses a stream fed one byte at a time', () => {
    const framer = new DapFramer(1024 * 1024);
    const chunks = [...stream].map((byte) => Buffer.from([byte]));
    expect(bodies(framer, chunks)).toEqual(messages);
  });

  it('returns several messages from one chunk, keeping the exact frame bytes', () => {
    const framer = new DapFramer(1024 * 1024);
    const frames = framer.push(stream);
    expect(frames).toHaveLength(3);
    expect(Buffer.concat(frames.map((f) => f.frame)).equals(stream)).toBe(true);
  });

  it('hands on a canonical header as the exact bytes that arrived', () => {
    const framed = encodeDapMessage(messages[0]!);
    const [frame] = new DapFramer(1024).push(framed);
    expect(frame!.arrivedCanonical).toBe(true);
    expect(frame!.frame.buffer).toBe(framed.buffer); // a view, not a copy
    expect(frame!.frame.equals(framed)).toBe(true);
  });

  it('refuses a message larger than the bound before buffering its body', () => {
    const framer = new DapFramer(100);
    const error = (() => {
      try {
        framer.push(Buffer.from('Content-Length: 101\r\n\r\n'));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(isRelayError(error, 'MESSAGE_TOO_LARGE')).toBe(true);
    expect(() => framer.push(Buffer.from('{}'))).toThrow(/already failed/);
  });

  it('accepts a message of exactly the bound', () => {
    const body = Buffer.from(JSON.stringify({ type: 'event', seq: 1, event: 'e', body: { pad: '' } }));
    const framer = new DapFramer(body.length);
    expect(framer.push(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]))).toHaveLength(1);
  });

  it.each([
    ['no Content-Length', 'Content-Type: x\r\n\r\n{}'],
    ['non-numeric length', 'Content-Length: abc\r\n\r\n{}'],
    ['negative length', 'Content-Length: -1\r\n\r\n{}'],
    ['header line without colon', 'Content-Length 2\r\n\r\n{}'],
    ['thirteen-digit length', 'Content-Length: 1234567890123\r\n\r\n{}'],
    ['length followed by other text', 'Content-Length: 2x\r\n\r\n{}'],
    ['space before the colon', 'Content-Length : 2\r\n\r\n{}'],
    ['tab before the colon', 'Content-Length\t: 2\r\n\r\n{}'],
    ['leading space', ' Content-Length: 2\r\n\r\n{}'],
    ['folded line', 'Content-Type: x\r\n Content-Length: 2\r\n\r\n{}'],
    ['duplicate Content-Length, same value', 'Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}'],
    ['duplicate Content-Length, other case', 'Content-Length: 2\r\ncontent-length: 2\r\n\r\n{}'],
    ['duplicate Content-Length, different values', 'content-length: 2\r\nContent-Length: 20\r\n\r\n{}'],
    ['empty field name', ': x\r\nContent-Length: 2\r\n\r\n{}'],
    ['empty Content-Length value', 'Content-Length:\r\n\r\n{}'],
    ['sign before the digits', 'Content-Length: +2\r\n\r\n{}'],
    ['digits split by a space', 'Content-Length: 1 2\r\n\r\n{}'],
    ['bare LF inside the header', 'Content-Length: 2\nX: y\r\n\r\n{}'],
    ['bare CR inside the header', 'Content-Length: 2\rX: y\r\n\r\n{}'],
    ['NUL in a field name', 'Content-Length\u0000: 2\r\n\r\n{}'],
    ['non-ASCII byte in a value', 'Content-Type: \u00e9\r\nContent-Length: 2\r\n\r\n{}'],
    ['empty line first', '\r\nContent-Length: 2\r\n\r\n{}'],
  ])('refuses a malformed header: %s', (_name, text) => {
    const framer = new DapFramer(1024);
    let caught: unknown;
    try {
      framer.push(Buffer.from(text));
    } catch (e) {
      caught = e;
    }
    expect(isRelayError(caught, 'BAD_REQUEST')).toBe(true);
  });

  it('refuses a malformed header whatever the chunking, handing on nothing of it', () => {
    const bad = Buffer.from('Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}');
    for (let cut = 0; cut <= bad.length; cut++) {
      const framer = new DapFramer(1024);
      const handed: unknown[] = [];
      let caught: unknown;
      try {
        for (const chunk of [bad.subarray(0, cut), bad.subarray(cut)]) handed.push(...framer.push(chunk));
      } catch (e) {
        caught = e;
      }
      expect(isRelayError(caught, 'BAD_REQUEST'), `cut at ${cut}`).toBe(true);
      expect(handed).toEqual([]);
    }
  });

  const body = Buffer.from('{"seq":9,"type":"event","event":"y"}');
  const canonical = Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]);

  it.each([
    ['lower-case name', `content-length: ${body.length}\r\n\r\n`],
    ['upper-case name', `CONTENT-LENGTH: ${body.length}\r\n\r\n`],
    ['no space after the colon', `Content-Length:${body.length}\r\n\r\n`],
    ['spaces and a tab around the value', `Content-Length: \t ${body.length}  \r\n\r\n`],
    ['leading zeros', `Content-Length: 000${body.length}\r\n\r\n`],
    ['an extra field before', `Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n`],
    ['an extra field after', `Content-Length: ${body.length}\r\nX-Extra: 1\r\n\r\n`],
  ])('re-frames an unambiguous header (%s) canonically', (_name, header) => {
    const framer = new DapFramer(1024);
    const [frame] = framer.push(Buffer.concat([Buffer.from(header), body]));
    expect(frame!.arrivedCanonical).toBe(false);
    expect(frame!.frame.equals(canonical)).toBe(true);
    expect(frame!.body.equals(body)).toBe(true);
  });

  it('hands on only canonical frames from a stream that mixes headers, split at every byte', () => {
    const general = Buffer.concat([Buffer.from(`Content-Type: x\r\ncontent-length:  ${body.length} \r\n\r\n`), body]);
    const mixed = Buffer.concat([stream, general, stream]);
    const expected = [...messages, { seq: 9, type: 'event', event: 'y' }, ...messages];
    const canonicalStream = Buffer.concat([stream, canonical, stream]);
    for (let cut = 0; cut <= mixed.length; cut++) {
      const framer = new DapFramer(1024 * 1024);
      const frames = [mixed.subarray(0, cut), mixed.subarray(cut)].flatMap((chunk) => framer.push(chunk));
      expect(frames.map((f) => JSON.parse(f.body.toString('utf8')))).toEqual(expected);
      expect(Buffer.concat(frames.map((f) => f.frame)).equals(canonicalStream), `cut at ${cut}`).toBe(true);
      expect(framer.bufferedBytes).toBe(0);
    }
  });

  it('keeps a body that arrives in many chunks whole, and what follows it', () => {
    const big = encodeDapMessage({ seq: 1, type: 'event', event: 'output', body: { output: 'z'.repeat(100_000) } });
    const after = encodeDapMessage(messages[0]!);
    const all = Buffer.concat([big, after]);
    const framer = new DapFramer(1024 * 1024);
    const frames = [];
    for (let at = 0; at < all.length; at += 1000) frames.push(...framer.push(all.subarray(at, at + 1000)));
    expect(frames.map((f) => f.frame.length)).toEqual([big.length, after.length]);
    expect(frames[0]!.frame.equals(big)).toBe(true);
    expect(framer.bufferedBytes).toBe(0);
  });

  it('refuses an endless header', () => {
    const framer = new DapFramer(1024);
    expect(() => framer.push(Buffer.from('X'.repeat(2000)))).toThrow(/header too long/);
  });

  // Found by fuzzing (fuzz/regressions/dapFramer/): a header within the bound was refused
  // when a chunk ended inside its \r\n\r\n, and accepted when the separator came whole.
  it.each([1023, 1024])('accepts a header of %i bytes (the bound is 1024) however it is chunked', (size) => {
    const header = `X-Pad: ${'p'.repeat(size - 26)}\r\nContent-Length: 2`;
    expect(header.length).toBe(size);
    const bytes = Buffer.from(`${header}\r\n\r\n{}`);
    const framer = new DapFramer(1024);
    const frames = [...bytes].flatMap((byte) => framer.push(Buffer.from([byte])));
    expect(frames.map((f) => f.frame.toString())).toEqual(['Content-Length: 2\r\n\r\n{}']);
    const overBound = Buffer.from(`X-Pad: ${'p'.repeat(size - 25)}\r\nContent-Length: 2\r\n\r\n{}`);
    if (size === 1024) expect(() => new DapFramer(1024).push(overBound)).toThrow(/header too long/);
  });
});
