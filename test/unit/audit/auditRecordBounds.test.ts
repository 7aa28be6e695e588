import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../src/audit/auditEvent.js';
import { boundAuditEvent } from '../../../src/audit/auditRecordBounds.js';

const session = { session: 's1', principal: 'jwt:mallory', method: 'jwt', target: 'web-1', via: 'tcps', client: '127.0.0.1:5000' };
const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

describe('boundAuditEvent', () => {
  it('returns a record that fits as it is, with its size and digest', () => {
    const event: AuditEvent = { event: 'dap.request', ...session, command: 'evaluate', expression: 'n + 1' };
    const bounded = boundAuditEvent(event, 1024);
    expect(bounded.event).toBe(event);
    expect(bounded.bytes).toBe(jsonBytes(event));
    expect(bounded.digest).toBe(createHash('sha256').update(JSON.stringify(event)).digest('hex'));
  });

  it('keeps the longest prefix of a list of 100 logpoints of 4 KB that fits, and says how many were left out', () => {
    const breakpoints = Array.from({ length: 100 }, (_, i) => ({ line: i + 1, logMessage: `${i}:${'x'.repeat(4096)}` }));
    const event: AuditEvent = { event: 'dap.request', ...session, command: 'setBreakpoints', source: '/srv/app.py', breakpoints };
    const bounded = boundAuditEvent(event, 16 * 1024);
    expect(bounded.bytes).toBeLessThanOrEqual(16 * 1024);
    expect(bounded.bytes).toBe(jsonBytes(bounded.event));
    const kept = bounded.event['breakpoints'] as Array<{ line: number }>;
    expect(kept.length).toBe(3); // 3 × ~4.1 KB fit in 16 KiB, a 4th does not
    expect(kept.map((bp) => bp.line)).toEqual([1, 2, 3]);
    expect(bounded.event).toMatchObject({ ...session, command: 'setBreakpoints', source: '/srv/app.py' });
    expect(bounded.event['truncated']).toEqual({ bytes: jsonBytes(event), sha256: bounded.digest, dropped: { breakpoints: 97 } });
    expect(bounded.codeCut).toBe(true); // 97 log messages are not in the record
  });

  it('says whether the cut changed or left out code (codeCut)', () => {
    const context = { event: 'dap.request', ...session, command: 'evaluate', expression: 'n > 3', context: 'c'.repeat(4000) } as AuditEvent;
    expect(boundAuditEvent(context, 1024)).toMatchObject({ codeCut: false, event: { expression: 'n > 3' } }); // only the context was cut
    const expression = { event: 'dap.request', ...session, command: 'evaluate', expression: 'e'.repeat(4000) } as AuditEvent;
    expect(boundAuditEvent(expression, 1024)).toMatchObject({ codeCut: true });
    expect(boundAuditEvent({ event: 'dap.request', ...session, command: 'evaluate', expression: 'n' }, 1024)).toMatchObject({ codeCut: false });
  });

  it('cuts large fields, largest first, and keeps the identity fields', () => {
    const event: AuditEvent = { event: 'dap.refused', ...session, command: 'evaluate', reason: 'r', expression: 'e'.repeat(5000), context: 'c'.repeat(3000) };
    const bounded = boundAuditEvent(event, 1024);
    expect(bounded.bytes).toBeLessThanOrEqual(1024);
    expect(bounded.event['expression']).toBe(`${'e'.repeat(64)}…[4936 more]`);
    expect(bounded.event).toMatchObject({ ...session, event: 'dap.refused', command: 'evaluate', reason: 'r' });
  });

  it('stays within the bound whatever the record holds', () => {
    const many: Record<string, unknown> = {};
    for (let i = 0; i < 300; i++) many[`f${i}`] = { nested: '\u0000'.repeat(200) };
    const event: AuditEvent = { event: 'dap.request', ...session, principal: '\u0001'.repeat(5000), command: '\u0002'.repeat(5000), ...many };
    const bounded = boundAuditEvent(event, 1024);
    expect(bounded.bytes).toBeLessThanOrEqual(1024);
    expect(bounded.event).toMatchObject({ event: 'dap.request', session: 's1' });
    expect(bounded.event['truncated']).toMatchObject({ sha256: bounded.digest });
  });
});
