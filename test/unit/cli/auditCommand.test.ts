import { mkdtempSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/auditLog.js';
import { auditLogChain, auditLogFile } from '../../../src/audit/auditReader.js';
import { auditQueryOf, registerAuditCommand, runAudit } from '../../../src/cli/auditCommand.js';
import { isRelayError } from '../../../src/common/relayError.js';

/** An audit log written by the relay's own writer, rotated over several files. */
function rotatedLog(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'audit-cmd-')), 'audit.log');
  const log = new AuditLog({ file, sync: false, maxFileBytes: 4096, maxFiles: 5 });
  for (let i = 0; i < 60; i++) {
    log.record({
      event: 'dap.request',
      session: `s${i % 3}`,
      principal: i % 2 === 0 ? 'jwt:alice' : 'cert:bob',
      target: i % 3 === 0 ? 'db-1' : 'web-1',
      command: 'evaluate',
      expression: `n + ${i}`,
      pad: 'p'.repeat(60),
    });
  }
  log.close();
  return file;
}

async function run(flags: Parameters<typeof runAudit>[0]): Promise<{ lines: string[]; matched: number; malformed: number }> {
  const lines: string[] = [];
  const result = await runAudit(flags, (line) => void lines.push(line));
  return { lines, ...result };
}

describe('dbgrelay audit', () => {
  it('reads the rotated files oldest first, then the current one', async () => {
    const file = rotatedLog();
    expect(auditLogChain(file).length).toBeGreaterThan(2);
    expect(auditLogChain(file).at(-1)).toBe(file);
    const { lines, matched } = await run({ file, json: true });
    expect(matched).toBe(60);
    expect(lines.map((l) => (JSON.parse(l) as { expression: string }).expression)).toEqual(Array.from({ length: 60 }, (_, i) => `n + ${i}`));
  });

  it('filters by target and principal, and prints one readable line per event', async () => {
    const file = rotatedLog();
    const { lines } = await run({ file, target: 'web-*', principal: 'jwt:alice' });
    // i even (alice) and i % 3 != 0 (web-1): 2, 4, 8, 10, ...
    const expected = Array.from({ length: 60 }, (_, i) => i).filter((i) => i % 2 === 0 && i % 3 !== 0);
    expect(lines).toHaveLength(expected.length);
    for (const [k, line] of lines.entries()) {
      expect(line).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+Z {2}jwt:alice +web-1 +dap\\.request evaluate +expression="n \\+ ${expected[k]}" pad=p+ session=s\\d$`));
    }
  });

  it('filters by time, ISO or relative', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'audit-cmd-')), 'audit.log');
    const at = (iso: string, n: number): string => JSON.stringify({ time: iso, event: 'session.opened', principal: 'relay-secret', target: 'web-1', n }) + '\n';
    const recent = new Date(Date.now() - 5 * 60_000).toISOString();
    writeFileSync(file, at('2026-01-01T00:00:00.000Z', 1) + at('2026-01-02T00:00:00.000Z', 2) + at(recent, 3));
    const n = (lines: string[]): number[] => lines.map((l) => (JSON.parse(l) as { n: number }).n);
    expect(n((await run({ file, json: true, since: '2026-01-01T12:00:00Z' })).lines)).toEqual([2, 3]);
    expect(n((await run({ file, json: true, until: '2026-01-01T12:00:00Z' })).lines)).toEqual([1]);
    expect(n((await run({ file, json: true, since: '15m' })).lines)).toEqual([3]);
    expect(n((await run({ file, json: true, since: '2026-01-01', until: '2026-01-01T00:00:00Z' })).lines)).toEqual([1]);
  });

  it('skips and counts lines that are not records (a write cut short)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'audit-cmd-')), 'audit.log');
    writeFileSync(file, JSON.stringify({ time: '2026-01-01T00:00:00.000Z', event: 'session.opened' }) + '\n\n[1,2]\n');
    appendFileSync(file, '{"time":"2026-01-01T00:00:01.000Z","event":"sess');
    const { matched, malformed } = await run({ file });
    expect([matched, malformed]).toEqual([1, 2]);
  });

  it('defaults to the audit log of the relay configuration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-cfg-'));
    const config = join(dir, 'relay.yaml');
    writeFileSync(config, `dataDir: ${dir}\naudit:\n  file: logs/trail.log\n`);
    expect(auditLogFile({ dataDir: dir, audit: {} })).toBe(join(dir, 'audit.log'));
    const error = await run({ config }).catch((e: unknown) => e);
    expect(isRelayError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toContain(`no audit log at ${join(dir, 'logs', 'trail.log')}`);
    const log = new AuditLog({ file: join(dir, 'logs', 'trail.log'), sync: false, maxFileBytes: 4096, maxFiles: 2 });
    log.record({ event: 'session.closed', principal: 'relay-secret', target: 'web-1', closedBy: 'client' });
    log.close();
    const { lines } = await run({ config });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/relay-secret +web-1 +session\.closed +closedBy=client$/);
  });

  it('refuses a bad time before reading anything', async () => {
    const error = await run({ file: '/nonexistent/audit.log', since: 'last tuesday' }).catch((e: unknown) => e);
    expect(isRelayError(error, 'BAD_REQUEST')).toBe(true);
    expect(auditQueryOf({ target: 'web-*' })).toEqual({ target: 'web-*' });
  });

  it('registers the command with every flag and help on time forms', () => {
    const program = new Command();
    registerAuditCommand(program);
    const command = program.commands.find((c) => c.name() === 'audit')!;
    expect(command.options.map((o) => o.long)).toEqual(['--file', '--config', '--target', '--principal', '--since', '--until', '--json']);
    let help = '';
    command.configureOutput({ writeOut: (text) => (help += text) });
    command.outputHelp();
    expect(help).toContain('15m');
    expect(help).toContain('rotated');
  });
});
