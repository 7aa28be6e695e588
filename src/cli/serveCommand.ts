import type { Command } from 'commander';
import { environmentBindings, type ServeFlags } from '../config/configSources.js';
import { loadConfig } from '../config/loadConfig.js';
import { createLogger } from '../log/logger.js';
import { startRelay } from '../relay/relayServer.js';
import { writePidFile } from '../lifecycle/runFiles.js';
import { handleServeSignals } from './serveSignals.js';
import { certificateNamesLines } from './certificateNamesLines.js';

const environmentHelp = [
  '',
  'Configuration layers, each overriding the one before: built-in defaults, the YAML',
  'file (--config or DBGRELAY_CONFIG), DBGRELAY_* environment variables, flags.',
  'Invalid configuration stops the relay with a message naming the key.',
  '',
  'Environment variables:',
  '  DBGRELAY_CONFIG                      config file (YAML)',
  ...environmentBindings.map((binding) => `  ${binding.env.padEnd(36)} ${binding.key}`),
  '',
  'The relay secret comes from DBGRELAY_SECRET or auth.secretFile (default',
  '<dataDir>/secret). Never pass it as a flag. Without either, a random secret is',
  'created (mode 0600) and shown once, only when standard input and standard error are',
  'terminals and the relay is not PID 1 (a container). Without tls.certFile/tls.keyFile, a',
  'development CA and a certificate for localhost/127.0.0.1/::1 are created in the',
  'data directory (default $STATE_DIRECTORY, $XDG_STATE_HOME/dbgrelay or',
  '~/.local/state/dbgrelay); pin the printed CA fingerprint on agents and clients.',
  'Agents and clients on other hosts: --public-name NAME (or tls.publicNames) for',
  'each name they dial; the certificate is made again for them, signed by the same CA.',
  '',
  'Standard output carries JSON log lines only (or none with --log-file); the lines',
  'for a person (addresses, CA fingerprint, a new secret) go to standard error.',
  '',
  'SIGHUP (or `dbgrelay reload`) reloads secrets, keys, certificates, policies,',
  'limits and configured targets for new sessions; running sessions are kept.',
  'SIGTERM drains (readyz 503, agents told to go away, sessions told when they will',
  'be detached) for lifecycle.drainGraceMs, then stops; a second SIGTERM or SIGINT',
  'stops at once. The pid is in <dataDir>/dbgrelay.pid while the relay runs.',
  '',
  'Several instances act as one relay with cluster.store.url (a Redis they share),',
  'cluster.peer.certFile/keyFile/caFile (`dbgrelay certs peer`) and',
  'cluster.peer.advertise; see docs/operations.md "Running several relays".',
].join('\n');

/**
 * Writes a human-readable line for the operator. Standard output carries the JSON log
 * stream only (one JSON object per line, as log collectors expect), so these go to
 * standard error.
 */
function say(line: string): void {
  process.stderr.write(line + '\n');
}

/**
 * Whether a person reads standard error at a terminal: standard input and standard
 * error are both terminals, and the relay is not PID 1. `docker run -t` gives standard
 * error a terminal that `docker logs` keeps, without `-i` standard input is none, and a
 * container's entry point runs as PID 1; systemd collects standard error into the journal.
 */
function personAtTerminal(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true && process.pid !== 1;
}

async function serve(flags: ServeFlags): Promise<void> {
  const config = loadConfig({ flags });
  const { logger, close: closeLogger } = createLogger({ level: config.log.level, file: config.log.file });
  const relay = await startRelay(config, {
    logger,
    onSecretCreated: (secret, file) => {
      say('');
      // Only a person at a terminal sees it: under systemd or in a container standard
      // error is collected as a log too, and a secret must never reach a log.
      if (personAtTerminal()) {
        say('  A new relay secret was created. It is shown this once; it is stored in');
        say(`  ${file} (mode 0600).`);
        say(`  RELAY SECRET: ${secret}`);
      } else {
        say(`  A new relay secret was created and stored in ${file} (mode 0600).`);
        say('  It is not shown: standard input and standard error are not both terminals, or the relay runs as PID 1 (a container).');
      }
      say('');
    },
  });
  if (relay.wssAddress) say(`dbgrelay: wss  listening on ${relay.wssAddress.url}`);
  if (relay.tcpsAddress) say(`dbgrelay: tcps listening on ${relay.tcpsAddress.url}`);
  if (relay.metricsAddress) say(`dbgrelay: metrics, /healthz and /readyz on ${relay.metricsAddress.url}`);
  if (relay.sshAddress) say(`dbgrelay: ssh  listening on ${relay.sshAddress.url} (ssh -R targets), host key ${relay.sshHostKeyFingerprint}`);
  if (relay.tls.source === 'dev') {
    say(`dbgrelay: development CA ${relay.tls.caFile}`);
    say(`dbgrelay: CA fingerprint ${relay.tls.caFingerprint}`);
  } else {
    say(`dbgrelay: certificate fingerprint ${relay.tls.leafFingerprint}, chain root ${relay.tls.caFingerprint}`);
  }
  for (const line of certificateNamesLines(relay.tls, config.tls.publicNames)) say(line);
  say(relay.secretFile ? `dbgrelay: secret file ${relay.secretFile}` : 'dbgrelay: secret from DBGRELAY_SECRET');

  const removePidFile = writePidFile(config.dataDir);
  try {
    await handleServeSignals({ relay, logger, loadConfig: () => loadConfig({ flags }), dataDir: config.dataDir, say });
  } finally {
    removePidFile();
  }
  closeLogger();
}

/** Adds `dbgrelay serve`: the relay daemon. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Run the relay daemon: wss and tcps listeners for agents and debugger clients.')
    .option('-c, --config <file>', 'YAML config file (env DBGRELAY_CONFIG)')
    .option('--data-dir <dir>', 'state directory: dev CA, certificates, secret (env DBGRELAY_DATA_DIR)')
    .option('--wss-host <host>', 'wss listener address (default 127.0.0.1; env DBGRELAY_WSS_HOST)')
    .option('--wss-port <port>', 'wss listener port, 0 for any (default 7443; env DBGRELAY_WSS_PORT)')
    .option('--tcps-host <host>', 'tcps listener address (default 127.0.0.1; env DBGRELAY_TCPS_HOST)')
    .option('--tcps-port <port>', 'tcps listener port, 0 for any (default 7444; env DBGRELAY_TCPS_PORT)')
    .option(
      '--public-name <name>',
      'DNS name or IP address agents and clients on other hosts dial; the development certificate covers it; repeatable (env DBGRELAY_TLS_PUBLIC_NAMES, comma-separated)',
      (value: string, previous: string | undefined) => (previous === undefined ? value : `${previous},${value}`),
    )
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (default info; env DBGRELAY_LOG_LEVEL)')
    .option('--log-file <file>', 'append JSON logs to this file instead of stdout (env DBGRELAY_LOG_FILE)')
    .addHelpText('after', environmentHelp)
    .action(async (flags: ServeFlags) => serve(flags));
}
