import { InvalidArgumentError, type Command } from 'commander';
import { defaultMaxTargetPages, fetchTargetList } from '../dial/relayTargetList.js';
import type { TargetInfo } from '../protocol/controlMessages.js';
import { addClientIdentityOptions, resolveClientIdentity, type ClientIdentityFlagValues } from './clientIdentityOptions.js';
import { addClientOptions, resolveClientConnection, type ClientFlagValues } from './clientOptions.js';
import { printable } from '../common/printable.js';
import { targetGroupOf } from '../protocol/targetName.js';
import { credentialSourceOf } from './credentialSource.js';
import { withAdvice } from './failureAdvice.js';

interface TargetsFlagValues extends ClientFlagValues, ClientIdentityFlagValues {
  readonly json?: boolean;
  readonly limit?: number;
}

function positiveCount(text: string): number {
  const value = /^[0-9]{1,9}$/.test(text) ? Number(text) : 0;
  if (value < 1) throw new InvalidArgumentError('expected a positive whole number');
  return value;
}

/**
 * The line that says the list was cut (on stderr, so `--json` output stays parseable):
 * by `--limit`, or by the bound on pages fetched.
 */
export function truncationNote(shown: number, limit: number | undefined): string {
  const why = limit !== undefined && shown >= limit ? `--limit ${limit}` : `the bound of ${defaultMaxTargetPages} pages`;
  return `dbgrelay targets: the list was cut after ${shown} targets by ${why}; the relay has more\n`;
}

const columns: ReadonlyArray<readonly [string, (t: TargetInfo) => string]> = [
  ['NAME', (t) => t.name],
  ['KIND', (t) => t.kind ?? 'agent'],
  ['HOST', (t) => t.host],
  ['PID', (t) => (t.pid !== undefined ? String(t.pid) : '-')],
  ['PYTHON', (t) => t.python ?? '-'],
  ['DEBUGPY', (t) => t.debugpy ?? '-'],
  ['TRANSPORT', (t) => t.transport],
  ['STATUS', (t) => targetStatus(t)],
  ['SESSIONS', (t) => String(t.sessions)],
  ['SINCE', (t) => t.connectedAt],
  ['LABELS', (t) => formatLabels(t.labels)],
  ['ROOT', (t) => t.root ?? '-'],
];

/** Labels as `key=value` pairs, sorted by key; `-` for none. */
export function formatLabels(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return pairs.length === 0 ? '-' : pairs.map(([key, value]) => `${key}=${value}`).join(',');
}

/**
 * The targets in display order: by name, except that a group's members
 * (`GROUP/MEMBER`) come right after the group (`web-1`, `web-1/123`, `web-1/456`,
 * `web-1-canary`), whether or not the group is registered itself.
 */
export function inDisplayOrder(targets: readonly TargetInfo[]): TargetInfo[] {
  const key = (name: string): string => {
    const group = targetGroupOf(name);
    return group === undefined ? `${name}\u0000` : `${group}\u0000${name}`;
  };
  return [...targets].sort((a, b) => {
    const [x, y] = [key(a.name), key(b.name)];
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/**
 * `connected` for an agent, with what its debuggee said when its debugger is not
 * `ok` (revision 1.8: `broken` targets cannot be debugged until they restart); for a
 * target the relay dials, whether its last attempt reached it.
 */
export function targetStatus(target: TargetInfo): string {
  if ((target.kind ?? 'agent') === 'agent') {
    if (target.debugger === undefined || target.debugger === 'ok') return 'connected';
    const state = target.debugger === 'broken' ? 'DEBUGGER BROKEN' : 'no pause guard';
    return target.detail !== undefined ? `connected, ${state}: ${target.detail}` : `connected, ${state}`;
  }
  if (target.reachable === undefined) return 'not tried yet';
  if (target.reachable) return 'reachable';
  return target.detail !== undefined ? `unreachable: ${target.detail}` : 'unreachable';
}

/** The target list as an aligned text table (one header line, one line per target). */
export function formatTargetsTable(targets: readonly TargetInfo[]): string {
  const rows = [columns.map(([title]) => title), ...inDisplayOrder(targets).map((t) => columns.map(([, cell]) => printable(cell(t))))];
  const widths = columns.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

/** Registers `dbgrelay targets`: lists the targets connected to the relay. */
export function registerTargetsCommand(program: Command): void {
  const command = program
    .command('targets')
    .description('list the targets connected to the relay')
    .option('--json', 'print the list as JSON (docs/protocol.md §7)')
    .option('--limit <count>', 'show at most this many targets (first by name); the list is fetched page by page', positiveCount);
  addClientIdentityOptions(addClientOptions(command)).action(async (flags: TargetsFlagValues) => {
    const connection = resolveClientConnection(flags);
    const identity = resolveClientIdentity(connection.identityFiles ?? flags);
    for (const note of connection.notes) process.stderr.write(`dbgrelay targets: ${note}\n`);
    const token = connection.token !== undefined ? connection.token() : undefined;
    const credential = credentialSourceOf(flags, connection);
    const { targets, complete } = await fetchTargetList(
      {
        endpoint: connection.endpoint,
        trust: connection.trust,
        ...(identity !== undefined ? { identity } : {}),
        ...(connection.secret !== undefined ? { secret: connection.secret } : {}),
        ...(token !== undefined ? { token } : {}),
      },
      flags.limit !== undefined ? { maxTargets: flags.limit } : {},
    ).catch((error: unknown) => {
      throw withAdvice(error, { command: 'targets', credential });
    });
    if (!complete) process.stderr.write(truncationNote(targets.length, flags.limit));
    if (flags.json) process.stdout.write(JSON.stringify(targets, null, 2) + '\n');
    else if (targets.length === 0) process.stdout.write(`no targets are connected to ${connection.endpoint.display}\n`);
    else process.stdout.write(formatTargetsTable(targets));
  });
}
