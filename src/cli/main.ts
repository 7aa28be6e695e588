#!/usr/bin/env node
import { Command } from 'commander';
import { registerServeCommand } from './serveCommand.js';
import { registerAttachCommand } from './attachCommand.js';
import { registerTargetsCommand } from './targetsCommand.js';
import { registerCertsCommand } from './certsCommand.js';
import { registerTokenCommand } from './tokenCommand.js';
import { registerAuditCommand } from './auditCommand.js';
import { registerReloadCommand } from './reloadCommand.js';
import { registerConfigCommand } from './configCommand.js';
import { registerCompletionCommand } from './completionCommand.js';
import { registerHealthcheckCommand } from './healthcheckCommand.js';
import { registerDoctorCommand } from './doctorCommand.js';
import { packageVersion } from '../common/packageVersion.js';
import { exitStatusFor, exitStatusHelp } from './exitCodes.js';

/**
 * Entry point of the `dbgrelay` command. Only parses flags and calls into the
 * library; each subcommand lives in its own file.
 */
const program = new Command()
  .name('dbgrelay')
  .description('Secure relay for remote debugging of Python over the Debug Adapter Protocol.')
  .version(packageVersion)
  .showHelpAfterError()
  .addHelpText('after', exitStatusHelp)
  // Usage errors reach the catch below (exit 64) instead of commander's own exit 1; subcommands registered after this inherit it.
  .exitOverride();

registerServeCommand(program);
registerAttachCommand(program);
registerTargetsCommand(program);
registerCertsCommand(program);
registerTokenCommand(program);
registerAuditCommand(program);
registerReloadCommand(program);
registerConfigCommand(program);
registerHealthcheckCommand(program);
registerDoctorCommand(program);
registerCompletionCommand(program);

// Output read by a command that stopped reading (`dbgrelay audit --json | head -1`):
// the rest is not wanted, so the command ends quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

// Exit status by kind of failure (exitCodes.ts; docs/operations.md "Exit status").
program.parseAsync(process.argv).catch((error: unknown) => {
  const code = (error as { code?: string }).code;
  // commander has already printed its own message (and help) for its errors.
  if (!code?.startsWith('commander.')) process.stderr.write(`dbgrelay: ${(error as Error).message ?? String(error)}${code ? ` (${code})` : ''}\n`);
  process.exitCode = exitStatusFor(error);
});
