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

  /** Adds one message body (the JSON part of a DAP frame). */
  add(direction: DapDirection, body: Buffer, origin: 'peer' | 'relay'): void {
    if (this.full) return;
    let message: unknown;
    try {
      message = JSON.parse(body.toString('utf8'));
    } catch {
      message = { unparsable: body.toString('utf8').slice(0, 1024) };
    }
    const line = JSON.stringify({ t: new Date().toISOString(), dir: direction, from: origin, msg: message }) + '\n';
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
