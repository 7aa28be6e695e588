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

/**
 * `EX_CONFIG` of sysexits.h: a configuration the command cannot use. The systemd unit
 * does not restart on it (`RestartPreventExitStatus=78`): a typo in the config would
 * otherwise restart the relay forever.
 */
const exitConfig = 78;

// Output read by a command that stopped reading (`dbgrelay audit --json | head -1`):
// the rest is not wanted, so the command ends quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

program.parseAsync(process.argv).catch((error: unknown) => {
  const code = (error as { code?: string }).code;
  process.stderr.write(`dbgrelay: ${(error as Error).message ?? String(error)}${code ? ` (${code})` : ''}\n`);
  process.exitCode = code === 'CONFIG_INVALID' ? exitConfig : 1;
});
