import { InvalidArgumentError, type Command } from 'commander';
import { startAttachServer, type AttachLogger } from '../client/attachServer.js';
import { hostForUrl } from '../client/relayEndpoint.js';
import { describeTrust } from '../client/tlsTrust.js';
import { addClientIdentityOptions, resolveClientIdentity, type ClientIdentityFlagValues } from './clientIdentityOptions.js';
import { addClientOptions, resolveClientConnection, type ClientFlagValues } from './clientOptions.js';

interface AttachFlagValues extends ClientFlagValues, ClientIdentityFlagValues {
  readonly port: number;
  readonly host: string;
  readonly takeover?: boolean;
}

function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return Number(value);
}

const stderrLogger: AttachLogger = {
  info: (message) => process.stderr.write(`dbgrelay attach: ${message}\n`),
  error: (message) => process.stderr.write(`dbgrelay attach: error: ${message}\n`),
};

/** The VS Code `launch.json` configuration that attaches to the local port. */
export function launchConfiguration(target: string, host: string, port: number): object {
  return {
    name: `dbgrelay: ${target}`,
    type: 'debugpy',
    request: 'attach',
    connect: { host, port },
    pathMappings: [{ localRoot: '${workspaceFolder}', remoteRoot: '.' }],
  };
}

async function runAttach(target: string, flags: AttachFlagValues): Promise<void> {
  const connection = resolveClientConnection(flags);
  const identity = resolveClientIdentity(flags);
  for (const note of connection.notes) process.stderr.write(`dbgrelay attach: ${note}\n`);
  const server = await startAttachServer({
    endpoint: connection.endpoint,
    target,
    trust: connection.trust,
    ...(identity !== undefined ? { identity } : {}),
    host: flags.host,
    port: flags.port,
    ...(flags.takeover ? { takeover: true } : {}),
    logger: stderrLogger,
    ...(connection.secret !== undefined ? { secret: connection.secret } : {}),
    ...(connection.token !== undefined ? { token: connection.token } : {}),
  });
  const { address, port } = server.address;
  process.stdout.write(
    [
      `dbgrelay attach: "${target}" via ${connection.endpoint.display} (${describeTrust(connection.trust)})${flags.takeover ? ', taking it over from its current holder' : ''}`,
      `listening on ${hostForUrl(address)}:${port}; each DAP connection there becomes one session with "${target}".`,
      'VS Code launch.json configuration:',
      JSON.stringify(launchConfiguration(target, address, port), null, 2),
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.stderr.write(`dbgrelay attach: ${signal}, closing\n`);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void server.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Registers `dbgrelay attach <target>`: a loopback DAP port whose connections are relay sessions with `target`. */
export function registerAttachCommand(program: Command): void {
  const command = program
    .command('attach')
    .description('open a local DAP port (VS Code "attach" with "connect") whose every connection is a debug session with <target> through the relay')
    .argument('<target>', 'name of the target, as listed by `dbgrelay targets`')
    .option('--port <port>', 'local port to listen on (0: any free port)', parsePort, 5678)
    .option('--host <address>', 'local loopback address to listen on (only loopback is allowed)', '127.0.0.1')
    .option(
      '--takeover',
      'take the target over if another principal is debugging it: their sessions are told why and detached cleanly (the program keeps running); ' +
        'needs the admin grant (the relay secret, a token with the admin scope), else the relay refuses with AUTH_FAILED',
    );
  addClientIdentityOptions(addClientOptions(command)).action((target: string, flags: AttachFlagValues) => runAttach(target, flags));
}
