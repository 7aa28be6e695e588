import type { Command } from 'commander';
import { RelayError } from '../common/relayError.js';
import { loadConfig } from '../config/loadConfig.js';
import { probeHealth } from '../dial/healthProbe.js';
import { healthProbeUrl } from '../lifecycle/healthProbeUrl.js';

interface HealthcheckFlags {
  readonly config?: string;
  readonly wssHost?: string;
  readonly wssPort?: string;
  readonly ready?: boolean;
  readonly timeout: string;
}

/**
 * Probes the relay on this host as `dbgrelay serve` with the same configuration would
 * listen: 0 when it answers 200, 1 otherwise (Docker's HEALTHCHECK reads 1 as unhealthy).
 */
async function healthcheck(flags: HealthcheckFlags): Promise<void> {
  const timeoutMs = Number(flags.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new RelayError('BAD_REQUEST', '--timeout: expected a positive integer (ms)');
  const { config, wssHost, wssPort } = flags;
  const serveFlags = { ...(config !== undefined && { config }), ...(wssHost !== undefined && { wssHost }), ...(wssPort !== undefined && { wssPort }) };
  const url = healthProbeUrl(loadConfig({ flags: serveFlags }), flags.ready ? '/readyz' : '/livez');
  try {
    const answer = await probeHealth(url, timeoutMs);
    if (answer.status === 200) {
      process.stdout.write(`dbgrelay: ${url.href}: ${answer.text}\n`);
      return;
    }
    process.stderr.write(`dbgrelay: ${url.href}: ${answer.status} ${answer.text}\n`);
  } catch (error) {
    process.stderr.write(`dbgrelay: ${(error as Error).message} (${(error as RelayError).code ?? 'error'})\n`);
  }
  process.exitCode = 1;
}

/** Adds `dbgrelay healthcheck`: the container's HEALTHCHECK, usable by any supervisor on the relay's host. */
export function registerHealthcheckCommand(program: Command): void {
  program
    .command('healthcheck')
    .description('Probe the relay on this host: GET /livez (or /readyz) on the main listener, else on the metrics listener.')
    .option('-c, --config <file>', 'the config file the relay runs with (env DBGRELAY_CONFIG); DBGRELAY_* variables apply as for serve')
    .option('--wss-host <host>', "the address serve's --wss-host gave (env DBGRELAY_WSS_HOST); 0.0.0.0 is dialed as 127.0.0.1")
    .option('--wss-port <port>', "the port serve's --wss-port gave (env DBGRELAY_WSS_PORT)")
    .option('--ready', 'probe /readyz (ready for new agents and clients) instead of /livez')
    .option('--timeout <ms>', 'how long to wait for the answer', '3000')
    .addHelpText(
      'after',
      [
        '',
        'Exits 0 when the probe answers 200, 1 when it answers anything else or nothing,',
        '78 when the configuration names no port to probe. Over https any certificate is',
        'accepted: the probe sends no credential and learns only the status.',
        '',
        'The listener comes from the config file, DBGRELAY_* variables and the flags above,',
        'never from the command line serve was started with: a relay run as',
        "`serve --wss-port 8443` (a container's command, say) is probed with",
        '`healthcheck --wss-port 8443`, or set the port once in the config file or',
        'DBGRELAY_WSS_PORT for both.',
      ].join('\n'),
    )
    .action(async (flags: HealthcheckFlags) => healthcheck(flags));
}
