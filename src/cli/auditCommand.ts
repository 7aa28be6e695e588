import type { Command } from 'commander';
import { auditLogChain, auditLogFile, readAuditRecords, type AuditReadStats } from '../audit/auditReader.js';
import { formatAuditRecord } from '../audit/auditFormat.js';
import { matchesAuditQuery, parseAuditTime, type AuditQuery } from '../audit/auditQuery.js';
import { loadConfig } from '../config/loadConfig.js';

/** Flags of `dbgrelay audit`, as commander parses them. */
export interface AuditFlagValues {
  readonly file?: string;
  readonly config?: string;
  readonly target?: string;
  readonly principal?: string;
  readonly since?: string;
  readonly until?: string;
  readonly json?: boolean;
}

const auditHelp = [
  '',
  'Reads the audit log the relay writes (docs/operations.md "Audit"), rotated files',
  'included (<file>.N … <file>.1, then <file>, oldest first). Without --file it is the',
  "relay configuration's audit.file, else <dataDir>/audit.log (--config or",
  'DBGRELAY_CONFIG, plus DBGRELAY_* variables, as for `dbgrelay serve`).',
  '',
  'One line per event: time, principal, target, event (and DAP command), then the',
  'salient fields (the evaluate expression, breakpoint conditions and log messages,',
  'refusal reasons, ...) and the session id. --json prints the matching records as they',
  'are stored, one JSON object per line.',
  '',
  'Patterns use * (any run of characters) and ? (one character), as grants do.',
  'Times are ISO 8601 (2026-11-21, 2026-11-21T08:00:00Z) or a duration back from now',
  '(90s, 15m, 2h, 1d).',
  '',
  'Examples:',
  "  dbgrelay audit --target 'web-*' --since 2h",
  "  dbgrelay audit --principal 'jwt:alice' --since 2026-11-21T08:00:00Z --until 2026-11-21T12:00:00Z",
  '  dbgrelay audit --file /var/lib/dbgrelay/audit.log --json | jq .',
  '',
  'The audit log is readable by the relay user only (mode 0600).',
].join('\n');

/** The query of the flags (times parsed against `nowMs`); throws `BAD_REQUEST` for a bad time. */
export function auditQueryOf(flags: AuditFlagValues, nowMs: number = Date.now()): AuditQuery {
  return {
    ...(flags.target !== undefined ? { target: flags.target } : {}),
    ...(flags.principal !== undefined ? { principal: flags.principal } : {}),
    ...(flags.since !== undefined ? { sinceMs: parseAuditTime(flags.since, '--since', nowMs) } : {}),
    ...(flags.until !== undefined ? { untilMs: parseAuditTime(flags.until, '--until', nowMs) } : {}),
  };
}

/**
 * Runs `dbgrelay audit`: writes each matching record to `write` (readable or JSON),
 * waiting for it when it returns a promise (backpressure on large logs); returns how
 * many matched and how many lines could not be parsed.
 */
export async function runAudit(flags: AuditFlagValues, write: (line: string) => void | Promise<void>): Promise<{ matched: number; malformed: number }> {
  const query = auditQueryOf(flags);
  const file = flags.file ?? auditLogFile(loadConfig({ flags: flags.config !== undefined ? { config: flags.config } : {} }));
  const stats: AuditReadStats = { malformed: 0 };
  let matched = 0;
  for await (const record of readAuditRecords(auditLogChain(file), stats)) {
    if (!matchesAuditQuery(record, query)) continue;
    matched++;
    await write(flags.json ? JSON.stringify(record) : formatAuditRecord(record));
  }
  return { matched, malformed: stats.malformed };
}

/** Writes a line to stdout, resolving once stdout can take more (a log may be far larger than memory). */
function writeStdout(line: string): Promise<void> | undefined {
  if (process.stdout.write(line + '\n')) return undefined;
  return new Promise((resolve) => process.stdout.once('drain', resolve));
}

/** Registers `dbgrelay audit`: a readable, filtered view of the relay's audit log. */
export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description("show the relay's audit log (rotated files too), filtered by target, principal and time")
    .option('--file <file>', 'audit log to read (default: audit.file of the relay configuration, else <dataDir>/audit.log)')
    .option('-c, --config <file>', 'relay config file, for the default audit log (env DBGRELAY_CONFIG)')
    .option('--target <pattern>', "only events of targets matching the pattern, e.g. 'web-*'")
    .option('--principal <pattern>', "only events of principals matching the pattern, e.g. 'jwt:alice', 'cert:*'")
    .option('--since <time>', 'only events at or after TIME: ISO 8601, or a duration back from now (15m, 2h, 1d)')
    .option('--until <time>', 'only events at or before TIME (same forms as --since)')
    .option('--json', 'print the matching records as stored (one JSON object per line)')
    .addHelpText('after', auditHelp)
    .action(async (flags: AuditFlagValues) => {
      const { matched, malformed } = await runAudit(flags, writeStdout);
      if (malformed > 0) process.stderr.write(`dbgrelay audit: skipped ${malformed} line(s) that are not JSON records\n`);
      if (matched === 0 && !flags.json) process.stderr.write('dbgrelay audit: no matching events\n');
    });
}
