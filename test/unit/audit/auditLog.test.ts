import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, statSync, utimesSync } from 'node:fs';
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

describe('AuditLog retention', () => {
  const hour = 3_600_000;
  const setup = (reserveBytes = 0) => {
    const file = join(mkdtempSync(join(tmpdir(), 'audit-')), 'audit.log');
    const full: boolean[] = [];
    const log = new AuditLog({ file, sync: false, maxFileBytes: 4096, maxFiles: 2, minRetentionMs: 24 * hour, reserveBytes, onFull: (f) => full.push(f) });
    return { file, log, full };
  };
  const fill = (log: AuditLog, from: number, count: number): void => {
    for (let n = from; n < from + count; n++) log.record({ event: 'dap.request', n, pad: 'p'.repeat(200) });
  };
  /** Records until one is refused; returns that error. */
  const fillUntilRefused = (log: AuditLog): unknown => {
    for (let n = 0; n < 1000; n++) {
      try {
        log.record({ event: 'dap.request', n, pad: 'p'.repeat(200) });
      } catch (error) {
        return error;
      }
    }
    return undefined;
  };

  it('never rotates away records younger than minRetentionMs: refuses the record with AUDIT_FULL instead', () => {
    const { file, log, full } = setup();
    log.record({ event: 'session.opened', first: true });
    fill(log, 0, 40); // ~10 KB: file, file.1, file.2 all hold young records
    expect(existsSync(`${file}.2`)).toBe(true);
    expect(fillUntilRefused(log)).toMatchObject({ code: 'AUDIT_FULL', message: expect.stringContaining('audit.minRetentionMs (24 h)') });
    expect(full).toEqual([true]);
    // The first record is still there, in the oldest file.
    expect(lines(`${file}.2`)[0]).toMatchObject({ event: 'session.opened', first: true });
    log.close();
  });

  it('takes records that are never refused into audit.reserveBytes while full, and nothing past it', () => {
    const { file, log } = setup(600);
    expect(fillUntilRefused(log)).toMatchObject({ code: 'AUDIT_FULL' });
    const sizeBefore = statSync(file).size;
    expect(() => log.record({ event: 'dap.request', command: 'evaluate', expression: 'x'.repeat(300) })).toThrow(expect.objectContaining({ code: 'AUDIT_FULL' }));
    log.record({ event: 'session.closed', closedBy: 'client' });
    log.record({ event: 'dap.request', command: 'disconnect', terminateDebuggee: false });
    expect(
      lines(file)
        .slice(-2)
        .map((l) => l['event']),
    ).toEqual(['session.closed', 'dap.request']);
    expect(() => {
      for (let i = 0; i < 10; i++) log.record({ event: 'session.closed', closedBy: 'client', pad: 'q'.repeat(100) });
    }).toThrow(expect.objectContaining({ code: 'AUDIT_FULL' }));
    expect(statSync(file).size).toBeLessThanOrEqual(4096 + 600);
    expect(statSync(file).size).toBeGreaterThan(sizeBefore);
    log.close();
  });

  it('refuses a new session (session.opened) and a resume record while full: neither uses the reserve', () => {
    const { log } = setup(600);
    expect(fillUntilRefused(log)).toMatchObject({ code: 'AUDIT_FULL' });
    expect(() => {
      for (let n = 0; n < 100; n++) log.record({ event: 'dap.request', n }); // the last bytes below maxFileBytes
    }).toThrow(expect.objectContaining({ code: 'AUDIT_FULL' }));
    for (let i = 0; i < 20; i++) {
      expect(() => log.record({ event: 'session.opened', policy: 'full' })).toThrow(expect.objectContaining({ code: 'AUDIT_FULL' }));
      expect(() => log.record({ event: 'dap.request', command: 'continue', threadId: 1 })).toThrow(expect.objectContaining({ code: 'AUDIT_FULL' }));
    }
    expect(() => log.record({ event: 'session.detached', outcome: 'detached' })).not.toThrow(); // the reserve is still there
    log.close();
  });

  it("writes a secondary session's session.opened (a subprocess waiting for its debugger) from the reserve while full, and refuses a primary one", () => {
    const { file, log } = setup(600);
    expect(fillUntilRefused(log)).toMatchObject({ code: 'AUDIT_FULL' });
    expect(() => {
      for (let n = 0; n < 100; n++) log.record({ event: 'dap.request', n }); // the last bytes below maxFileBytes
    }).toThrow(expect.objectContaining({ code: 'AUDIT_FULL' }));
    expect(() => log.record({ event: 'session.opened', policy: 'full', role: 'primary' })).toThrow(expect.objectContaining({ code: 'AUDIT_FULL' }));
    log.record({ event: 'session.opened', policy: 'full', role: 'secondary' });
    expect(lines(file).at(-1)).toMatchObject({ event: 'session.opened', role: 'secondary' });
    expect(statSync(file).size).toBeGreaterThan(4096);
    expect(() => log.record({ event: 'session.opened', policy: 'full', role: 'primary' })).toThrow(expect.objectContaining({ code: 'AUDIT_FULL' }));
    log.close();
  });

  it('rotates again once the oldest file is old enough, or moved away', () => {
    const { file, log, full } = setup();
    expect(fillUntilRefused(log)).toMatchObject({ code: 'AUDIT_FULL' });
    const old = (Date.now() - 25 * hour) / 1000;
    utimesSync(`${file}.2`, old, old);
    log.record({ event: 'dap.request', after: 'aged', pad: 'p'.repeat(200) });
    expect(full).toEqual([true, false]);
    expect(lines(file)).toEqual([expect.objectContaining({ after: 'aged' })]); // a fresh file after the rotation
    expect(fillUntilRefused(log)).toMatchObject({ code: 'AUDIT_FULL' });
    renameSync(`${file}.2`, `${file}.shipped`); // an operator archived it
    log.record({ event: 'dap.request', after: 'moved', pad: 'p'.repeat(200) });
    expect(full).toEqual([true, false, true, false]);
    expect(lines(file).at(-1)).toMatchObject({ after: 'moved' });
    log.close();
  });

  it('cuts a record longer than maxRecordBytes, and says so', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'audit-')), 'audit.log');
    let truncated = 0;
    const log = new AuditLog({ file, sync: false, maxFileBytes: 1 << 20, maxFiles: 1, maxRecordBytes: 2048, onTruncated: () => truncated++ });
    log.record({ event: 'dap.request', command: 'setBreakpoints', breakpoints: Array.from({ length: 50 }, (_, i) => ({ line: i, logMessage: 'm'.repeat(300) })) });
    const [line] = lines(file);
    expect(readFileSync(file).length).toBeLessThanOrEqual(2049);
    expect(line).toMatchObject({ time: expect.any(String), command: 'setBreakpoints', truncated: { dropped: { breakpoints: expect.any(Number) } } });
    expect(truncated).toBe(1);
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
