import { DapFramer, encodeDapMessage, type DapFrame } from '../../src/dap/dapFramer.js';
import { parseDapMessage } from '../../src/dap/dapMessage.js';
import { check, chunked, within, ContractViolation } from './contract.js';

/** A small bound, so that the fuzzer reaches `MESSAGE_TOO_LARGE` with short inputs too. */
const maxMessageBytes = 4096;
const framerCodes = ['BAD_REQUEST', 'MESSAGE_TOO_LARGE'] as const;

interface Outcome {
  readonly frames: DapFrame[];
  readonly failed: boolean;
  readonly buffered: number;
}

function feed(chunks: readonly Buffer[]): Outcome {
  const framer = new DapFramer(maxMessageBytes);
  const frames: DapFrame[] = [];
  for (const chunk of chunks) {
    const got = within(framerCodes, 'DapFramer.push', () => framer.push(chunk));
    if (got === undefined) {
      // A failed framer stays failed (the stream has lost its framing).
      const after = within(['BAD_REQUEST'], 'DapFramer.push after a failure', () => framer.push(Buffer.from('Content-Length: 2\r\n\r\n{}')));
      check(after === undefined, 'a failed DapFramer accepted more bytes');
      return { frames, failed: true, buffered: framer.bufferedBytes };
    }
    frames.push(...got);
  }
  return { frames, failed: false, buffered: framer.bufferedBytes };
}

/**
 * The DAP framer (src/dap/dapFramer.ts) and the message parser behind it
 * (src/dap/dapMessage.ts). The first byte picks how the rest is cut into chunks.
 * Asserts: only `BAD_REQUEST`/`MESSAGE_TOO_LARGE`; every frame is canonical
 * (`Content-Length: N\r\n\r\n` and N body bytes); one chunking gives the frames any
 * other gives; a body parses to a message or `BAD_REQUEST`, and a message re-framed
 * and re-parsed is the same message.
 */
export function fuzz(data: Buffer): void {
  if (data.length === 0) return;
  const stride = 1 + (data[0]! % 17);
  const input = data.subarray(1);
  const cuts = Array.from({ length: Math.ceil(input.length / stride) }, (_, i) => i * stride + (data[(i % (data.length - 1)) + 1]! % stride));
  const pieces = feed(chunked(input, cuts));
  const whole = feed([input]);

  for (const frame of pieces.frames) {
    const header = `Content-Length: ${frame.body.length}\r\n\r\n`;
    check(frame.frame.toString('latin1', 0, header.length) === header, 'a frame without a canonical header');
    check(frame.frame.length === header.length + frame.body.length, 'a frame whose length is not header + body');
    check(frame.body.length <= maxMessageBytes, 'a frame above the bound');
  }
  // The same bytes give the same frames whatever the chunking (until a failure, which
  // both see: a refused header is refused in any chunking).
  check(pieces.failed === whole.failed, `chunking changed whether the stream failed (${pieces.failed} vs ${whole.failed})`);
  if (!whole.failed) {
    check(pieces.frames.length === whole.frames.length, 'chunking changed the number of frames');
    pieces.frames.forEach((frame, i) => {
      check(frame.frame.equals(whole.frames[i]!.frame), `chunking changed frame ${i}`);
    });
    check(pieces.buffered === whole.buffered, 'chunking changed the bytes left buffered');
  }

  for (const frame of pieces.frames) {
    const message = within(['BAD_REQUEST'], 'parseDapMessage', () => parseDapMessage(frame.body));
    if (message === undefined) continue;
    const again = new DapFramer(maxMessageBytes * 8).push(encodeDapMessage(message));
    if (again.length !== 1) throw new ContractViolation('a parsed message did not re-frame as one frame');
    const reparsed = parseDapMessage(again[0]!.body);
    check(JSON.stringify(reparsed) === JSON.stringify(message), 'a parsed message changed when re-framed and re-parsed');
  }
}
