import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessionTranscript, transcriptMessage } from '../../../src/audit/sessionTranscript.js';

/** A DAP request whose arguments nest `levels` arrays deep. */
const deepRequest = (levels: number): Buffer =>
  Buffer.from(`{"seq":1,"type":"request","command":"evaluate","arguments":{"expression":${'['.repeat(levels)}${']'.repeat(levels)}}}`);

function transcriptOf(add: (t: SessionTranscript) => void): Promise<string[]> {
  const transcript = new SessionTranscript({ dir: join(mkdtempSync(join(tmpdir(), 'transcripts-')), 't'), session: 's', maxBytes: 1 << 22 });
  add(transcript);
  return transcript.close().then(() =>
    readFileSync(transcript.file, 'utf8')
      .split('\n')
      .filter((l) => l !== ''),
  );
}

describe('SessionTranscript from the bytes that arrived', () => {
  it('writes the body bytes as they are, one line per message, readable as JSON', async () => {
    const body = '{"seq":1,\n"type":"request",  "command":"threads"}';
    const [line] = await transcriptOf((t) => t.add('toAdapter', Buffer.from(body), 'peer'));
    expect(line).toContain('"msg":{"seq":1, "type":"request",  "command":"threads"}}');
    expect(JSON.parse(line!)).toMatchObject({ dir: 'toAdapter', from: 'peer', msg: { command: 'threads' } });
  });

  it('keeps a deep-but-allowed message intact', async () => {
    const [line] = await transcriptOf((t) => t.add('toAdapter', deepRequest(60), 'peer'));
    expect(line).toContain(deepRequest(60).toString());
  });

  it('does not throw on a message 8000 levels deep (JSON.stringify of it throws RangeError)', async () => {
    const deep = deepRequest(8000);
    expect(() => JSON.stringify(JSON.parse(deep.toString()))).toThrow(RangeError); // what the old add() did
    const lines = await transcriptOf((t) => {
      expect(() => t.add('toClient', deep, 'peer')).not.toThrow();
      t.add('toClient', Buffer.from('{"seq":2,"type":"event","event":"stopped"}'), 'peer');
    });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(deep.toString());
    expect(JSON.parse(lines[1]!)).toMatchObject({ msg: { event: 'stopped' } });
  });

  it('quotes a body that is not JSON as a string, so that the line stays JSON', () => {
    expect(JSON.parse(transcriptMessage(Buffer.from('{"a":\n')).toString())).toEqual({ unparsable: '{"a":\n' });
    expect(JSON.parse(transcriptMessage(Buffer.from('x'.repeat(5000))).toString()).unparsable).toHaveLength(1024);
  });
});
