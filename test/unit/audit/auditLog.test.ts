import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/auditLog.js';
import { withAuditFields } from '../../../src/audit/auditEvent.js';
import { SessionTranscript } from '../../../src/audit/sessionTranscript.js';

const lines = (file: string): Array<Record<string, unknown>> =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('AuditLog', () => {
  it('appends one JSON line per record, with the time first, to a 0600 file that is on disk at once', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'audit-')), 'sub', 'audit.log');
    const log = new AuditLog({ file, sync: true, maxFileBytes: 1 << 20, maxFiles: 3 });
    const session = withAuditFields(log, { session: 's1', principal: 'jwt:alice', target: 'web-1' });
    session.record({ event: 'dap.request', command: 'evaluate', expression: 'x + 1' });
    // Synchronous: readable before record() returned to the caller's next statement.
    const [line] = lines(file);
    expect(Object.keys(line!).slice(0, 2)).toEqual(['time', 'event']);
    expect(line).toMatchObject({ event: 'dap.request', session: 's1', principal: 'jwt:alice', target: 'web-1', command: 'evaluate', expression: 'x + 1' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    log.close();
  });

  it('rotates by size and keeps maxFiles old files', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'audit-')), 'audit.log');
    const log = new AuditLog({ file, sync: false, maxFileBytes: 4096, maxFiles: 2 });
    for (let i = 0; i < 100; i++) log.record({ event: 'dap.request', n: i, pad: 'p'.repeat(100) });
    log.close();
    expect(existsSync(`${file}.1`) && existsSync(`${file}.2`)).toBe(true);
    expect(existsSync(`${file}.3`)).toBe(false);
    for (const f of [file, `${file}.1`, `${file}.2`]) expect(statSync(f).size).toBeLessThanOrEqual(4096);
    expect(lines(file).at(-1)).toMatchObject({ n: 99 });
    const all = [...lines(`${file}.2`), ...lines(`${file}.1`), ...lines(file)].map((l) => l['n'] as number);
    expect(all).toEqual([...all].sort((a, b) => a - b)); // oldest first across files
  });

  it('throws AUDIT_UNAVAILABLE when it cannot write', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'audit-')), 'audit.log');
    const log = new AuditLog({ file, sync: true, maxFileBytes: 100, maxFiles: 1 });
    log.record({ event: 'session.opened' }); // the next record must rotate
    mkdirSync(join(`${file}.1`, 'blocker'), { recursive: true }); // and rotation cannot remove this
    expect(() => log.record({ event: 'session.closed', pad: 'x'.repeat(200) })).toThrow(expect.objectContaining({ code: 'AUDIT_UNAVAILABLE' }));
    log.close();
  });
});

describe('SessionTranscript', () => {
  it('writes both directions with timestamps and stops at the size cap', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'transcripts-')), 't');
    const transcript = new SessionTranscript({ dir, session: 'abc', maxBytes: 400 });
    transcript.add('toAdapter', Buffer.from('{"type":"request","seq":1,"command":"threads"}'), 'peer');
    transcript.add('toClient', Buffer.from('{"type":"response","seq":1,"request_seq":1,"command":"threads","success":true}'), 'peer');
    for (let i = 0; i < 20; i++) transcript.add('toClient', Buffer.from(`{"type":"event","seq":${i},"event":"output"}`), 'relay');
    await transcript.close();
    const written = lines(transcript.file);
    expect(written[0]).toMatchObject({ dir: 'toAdapter', from: 'peer', msg: { command: 'threads' }, t: expect.stringMatching(/^\d{4}-/) });
    expect(written[1]).toMatchObject({ dir: 'toClient', msg: { success: true } });
    expect(written.at(-1)).toMatchObject({ truncated: true, maxBytes: 400 });
    expect(readFileSync(transcript.file, 'utf8').length).toBeLessThan(600);
    expect(statSync(transcript.file).mode & 0o777).toBe(0o600);
  });
});
