import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { DapDirection } from '../dap/dapPipe.js';

/** Options of a {@link SessionTranscript} (config keys `audit.transcripts.*`). */
export interface SessionTranscriptOptions {
  /** Directory of transcripts (created 0700). */
  readonly dir: string;
  /** The session id: the file is `<dir>/<session>.jsonl`. */
  readonly session: string;
  /** Bound on one transcript; past it one `truncated` line is written and nothing more. */
  readonly maxBytes: number;
}

/**
 * A full DAP transcript of one session for later review: one JSON line per message,
 * `{"t": ISO time, "dir": "toAdapter"|"toClient", "from": "peer"|"relay", "msg": …}`,
 * in both directions, including what the relay itself sent. It holds whatever the
 * debuggee's data holds (variables, source), so the files are 0600 in a 0700
 * directory. Written asynchronously: a transcript is for review, not proof (that is
 * the audit log's job).
 */
export class SessionTranscript {
  private readonly stream: WriteStream;
  private bytes = 0;
  private full = false;

  constructor(private readonly options: SessionTranscriptOptions) {
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    this.stream = createWriteStream(join(options.dir, `${options.session}.jsonl`), { flags: 'a', mode: 0o600 });
    this.stream.on('error', () => (this.full = true)); // a transcript never takes a session down
  }

  /** The file this transcript writes. */
  get file(): string {
    return join(this.options.dir, `${this.options.session}.jsonl`);
  }

  /**
   * Adds one message body (the JSON part of a DAP frame), written as the bytes that
   * arrived: the message is never re-serialised, so no shape of it (e.g. thousands of
   * nesting levels, which `JSON.stringify` cannot walk) can fail the session here. A
   * body that is not JSON is kept as `{"unparsable": "<its first KiB>"}`.
   */
  add(direction: DapDirection, body: Buffer, origin: 'peer' | 'relay'): void {
    if (this.full) return;
    const head = `{"t":"${new Date().toISOString()}","dir":"${direction}","from":"${origin}","msg":`;
    const line = Buffer.concat([Buffer.from(head), transcriptMessage(body), Buffer.from('}\n')]);
    if (this.bytes + line.length > this.options.maxBytes) {
      this.full = true;
      this.stream.write(JSON.stringify({ t: new Date().toISOString(), truncated: true, maxBytes: this.options.maxBytes }) + '\n');
      return;
    }
    this.bytes += line.length;
    this.stream.write(line);
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(() => resolve()));
  }
}

const lineBreaks = /[\r\n]/g;

/**
 * The JSON text of `body` for one transcript line: the body itself when it is JSON
 * (checked by `JSON.parse`, which does not recurse; line breaks, which valid JSON can
 * hold only as whitespace between tokens, become spaces; bytes that are not UTF-8
 * become U+FFFD), else a small object
 * quoting the start of it as a string.
 */
export function transcriptMessage(body: Buffer): Buffer {
  const text = body.toString('utf8');
  try {
    JSON.parse(text);
  } catch {
    return Buffer.from(JSON.stringify({ unparsable: text.slice(0, 1024) }));
  }
  return Buffer.from(text.replace(lineBreaks, ' '));
}
