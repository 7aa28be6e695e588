import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { credentialFromHello, parseHelloLine, readHelloLine } from '../../../src/listeners/helloLine.js';

const bounds = { maxBytes: 64, timeoutMs: 200 };

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('readHelloLine', () => {
  it('reads a line split over chunks and keeps the bytes after it', async () => {
    const stream = new PassThrough();
    const reading = readHelloLine(stream, bounds);
    stream.write('{"dbgrelay":');
    stream.write('1}\nContent-');
    const { line, leftover } = await reading;
    expect(line).toBe('{"dbgrelay":1}');
    expect(leftover.toString()).toBe('Content-');
    expect(stream.isPaused()).toBe(true);
  });

  it('refuses a line over the bound with MESSAGE_TOO_LARGE', async () => {
    const stream = new PassThrough();
    const reading = readHelloLine(stream, bounds);
    stream.write('x'.repeat(40));
    stream.write('x'.repeat(40));
    expect(await codeOf(reading)).toBe('MESSAGE_TOO_LARGE');
  });

  it('accepts a line of exactly the bound, newline included', async () => {
    const stream = new PassThrough();
    const reading = readHelloLine(stream, bounds);
    stream.write('y'.repeat(63) + '\n');
    expect((await reading).line).toHaveLength(63);
  });

  it('times out a slow sender with HANDSHAKE_TIMEOUT', async () => {
    const stream = new PassThrough();
    const reading = readHelloLine(stream, bounds);
    stream.write('{"dbgrelay":1,');
    const started = Date.now();
    expect(await codeOf(reading)).toBe('HANDSHAKE_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('refuses a connection that ends before the line', async () => {
    const stream = new PassThrough();
    const reading = readHelloLine(stream, bounds);
    stream.end('{"dbgrelay"');
    expect(await codeOf(reading)).toBe('BAD_REQUEST');
  });
});

describe('parseHelloLine', () => {
  const codeOfLine = (line: string): string | undefined => {
    try {
      parseHelloLine(line);
    } catch (error) {
      return (error as { code?: string }).code;
    }
    return undefined;
  };

  it('parses each op', () => {
    expect(parseHelloLine('{"dbgrelay":1,"op":"attach","target":"web-1","secret":"s"}')).toEqual({ dbgrelay: 1, op: 'attach', target: 'web-1', secret: 's' });
    expect(parseHelloLine('{"dbgrelay":1,"op":"targets"}').op).toBe('targets');
  });

  it.each([
    ['not JSON', '{"dbgrelay":1,', 'BAD_REQUEST'],
    ['not an object', '[1]', 'BAD_REQUEST'],
    ['no version', '{"op":"agent"}', 'BAD_REQUEST'],
    ['wrong version', '{"dbgrelay":2,"op":"agent"}', 'PROTOCOL_VERSION'],
    ['version as string', '{"dbgrelay":"1","op":"agent"}', 'PROTOCOL_VERSION'],
    ['unknown op', '{"dbgrelay":1,"op":"shell"}', 'BAD_REQUEST'],
    ['attach without target', '{"dbgrelay":1,"op":"attach"}', 'BAD_REQUEST'],
    ['bad session id', '{"dbgrelay":1,"op":"agentData","sessionId":"../x"}', 'BAD_REQUEST'],
  ])('refuses %s', (_name, line, code) => {
    expect(codeOfLine(line)).toBe(code);
  });

  it('never quotes the line (it carries the secret) in errors', () => {
    try {
      parseHelloLine('{"dbgrelay":1,"op":"attach","secret":"hunter2-secret"}');
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
    expect.assertions(1);
  });

  it('reads the credential', () => {
    expect(credentialFromHello(parseHelloLine('{"dbgrelay":1,"op":"agent","secret":"s"}'))).toEqual({ kind: 'secret', secret: 's' });
    expect(credentialFromHello(parseHelloLine('{"dbgrelay":1,"op":"agent","secret":""}'))).toBeUndefined();
    expect(credentialFromHello(parseHelloLine('{"dbgrelay":1,"op":"agent"}'))).toBeUndefined();
  });

  it('reads a bearer token from the token field and refuses a secret and a token together', () => {
    expect(credentialFromHello(parseHelloLine('{"dbgrelay":1,"op":"agent","token":"a.b.c"}'))).toEqual({ kind: 'bearer', token: 'a.b.c' });
    expect(credentialFromHello(parseHelloLine('{"dbgrelay":1,"op":"attach","target":"w","token":"t"}'))).toEqual({ kind: 'bearer', token: 't' });
    expect(() => credentialFromHello(parseHelloLine('{"dbgrelay":1,"op":"agent","secret":"s","token":"t"}'))).toThrow(
      expect.toSatisfy((e) => (e as { code?: string }).code === 'BAD_REQUEST'),
    );
    expect(codeOfLine('{"dbgrelay":1,"op":"agent","token":7}')).toBe('BAD_REQUEST');
  });
});
