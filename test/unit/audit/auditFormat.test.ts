import { describe, expect, it } from 'vitest';
import { formatAuditRecord, formatAuditValue } from '../../../src/audit/auditFormat.js';

const base = { time: '2026-11-21T10:30:00.000Z', session: 'a1b2c3d4e5f6', principal: 'jwt:alice', method: 'jwt', target: 'web-1', via: 'wss', client: '127.0.0.1:50000' };

describe('formatAuditRecord', () => {
  it('shows an evaluate with its expression, without the repeated connection fields', () => {
    const line = formatAuditRecord({ ...base, event: 'dap.request', command: 'evaluate', expression: 'n * 2', context: 'repl', frameId: 3 });
    expect(line).toMatch(/^2026-11-21T10:30:00\.000Z {2}jwt:alice +web-1 +dap\.request evaluate +expression="n \* 2" context=repl frameId=3 session=a1b2c3d4e5f6$/);
    expect(line).not.toContain('127.0.0.1');
    expect(line).not.toContain('via=');
  });

  it('shows where a session came from on session.opened, and the policy', () => {
    const line = formatAuditRecord({ ...base, event: 'session.opened', policy: 'no-eval', policyRules: ['targets["web-*"]=no-eval'], role: 'primary', maxPauseMs: 0 });
    expect(line).toContain('session.opened');
    expect(line).toContain('via=wss client=127.0.0.1:50000 method=jwt policy=no-eval policyRules=');
    expect(line).toContain('role=primary');
  });

  it('shows breakpoints with conditions and log messages, and refusals with their reason', () => {
    const bp = formatAuditRecord({
      ...base,
      event: 'dap.request',
      command: 'setBreakpoints',
      source: '/app/web.py',
      breakpoints: [
        { line: 12, condition: 'n > 0' },
        { line: 20, logMessage: 'x={x}' },
      ],
    });
    expect(bp).toContain('dap.request setBreakpoints');
    expect(bp).toContain('source=/app/web.py breakpoints=[{"line":12,"condition":"n > 0"},{"line":20,"logMessage":"x={x}"}]');
    const refused = formatAuditRecord({ ...base, event: 'dap.refused', direction: 'toClient', command: 'runInTerminal', reason: 'never forwarded' });
    expect(refused).toContain('dap.refused runInTerminal');
    expect(refused).toContain('direction=toClient reason="never forwarded"');
    const busy = formatAuditRecord({ ...base, event: 'session.refused', code: 'TARGET_BUSY', reason: 'target "web-1" is being debugged by jwt:bob' });
    expect(busy).toContain('code=TARGET_BUSY reason="target \\"web-1\\" is being debugged by jwt:bob"');
  });

  it('keeps a record on one printable line whatever the expression holds', () => {
    const line = formatAuditRecord({ ...base, event: 'dap.request', command: 'evaluate', expression: 'print("a")\n\u001b[2Jx\u0007' });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the line must carry no control character
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(line.split('\n')).toHaveLength(1);
    const raw = formatAuditRecord({ ...base, event: 'dap.request', command: 'evaluate', principal: 'x\u001b[31m' } as Record<string, unknown>);
    expect(raw).not.toContain('\u001b');
  });

  it('shows records lacking columns with a dash, and cuts very long values', () => {
    const line = formatAuditRecord({ time: base.time, event: 'watchdog.resumed', threadId: 1, pausedMs: 31000, maxPauseMs: 30000 });
    expect(line).toMatch(/^2026-11-21T10:30:00\.000Z {2}- +- +watchdog\.resumed +threadId=1 pausedMs=31000 maxPauseMs=30000$/);
    expect(formatAuditValue('y'.repeat(1000)).length).toBeLessThan(400);
  });
});
