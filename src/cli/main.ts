#!/usr/bin/env node
import { Command } from 'commander';
import { registerServeCommand } from './serveCommand.js';
import { registerAttachCommand } from './attachCommand.js';
import { registerTargetsCommand } from './targetsCommand.js';
import { registerCertsCommand } from './certsCommand.js';
import { registerTokenCommand } from './tokenCommand.js';
import { registerAuditCommand } from './auditCommand.js';
import { registerReloadCommand } from './reloadCommand.js';
import { packageVersion } from '../common/packageVersion.js';

/**
 * Entry point of the `dbgrelay` command. Only parses flags and calls into the
 * library; each subcommand lives in its own file.
 */
const program = new Command()
  .name('dbgrelay')
  .description('Secure relay for remote debugging of Python over the Debug Adapter Protocol.')
  .version(packageVersion)
  .showHelpAfterError();

registerServeCommand(program);
registerAttachCommand(program);
registerTargetsCommand(program);
registerCertsCommand(program);
registerTokenCommand(program);
registerAuditCommand(program);
registerReloadCommand(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  const code = (error as { code?: string }).code;
  process.stderr.write(`dbgrelay: ${(error as Error).message ?? String(error)}${code ? ` (${code})` : ''}\n`);
  process.exitCode = 1;
});
