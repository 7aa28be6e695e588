import { InvalidArgumentError, type Command } from 'commander';
import { startAttachServer, type AttachLogger } from '../client/attachServer.js';
import { defaultSessionHeartbeatMs, type RelayDialOptions } from '../dial/relayDialer.js';
import { lookUpTarget } from '../client/targetLookup.js';
import { dialDirectEndpoint, directEndpointTarget } from '../dial/directEndpointDialer.js';
import { hostForUrl, ptvsdBasePath } from '../dial/relayEndpoint.js';
import { RelayError } from '../common/relayError.js';
import { defaultMaxDapMessageBytes, maxMaxDapMessageBytes, minMaxDapMessageBytes } from '../protocol/dapMessageBound.js';
import { describeTrust } from '../dial/tlsTrust.js';
import { addClientIdentityOptions, resolveClientIdentity, type ClientIdentityFlagValues } from './clientIdentityOptions.js';
import { addClientOptions, resolveClientConnection, type ClientFlagValues } from './clientOptions.js';
import { isEndpointUrl, resolveDirectConnection } from './directEndpointOptions.js';

interface AttachFlagValues extends ClientFlagValues, ClientIdentityFlagValues {
  readonly port: number;
  readonly host: string;
  readonly takeover?: boolean;
  /** False with `--no-prefetch`. */
  readonly prefetch: boolean;
  readonly heartbeatInterval: number;
  readonly maxMessageBytes: number;
}

function parseHeartbeatInterval(value: string): number {
  if (!/^\d{1,7}$/.test(value) || (Number(value) !== 0 && Number(value) < 100)) throw new InvalidArgumentError('expected milliseconds: 0 (off) or at least 100');
  return Number(value);
}

function parseMaxMessageBytes(value: string): number {
  const bytes = /^\d{1,10}$/.test(value) ? Number(value) : NaN;
  if (!(bytes >= minMaxDapMessageBytes && bytes <= maxMaxDapMessageBytes)) {
    throw new InvalidArgumentError(`expected bytes from ${minMaxDapMessageBytes} to ${maxMaxDapMessageBytes}`);
  }
  return bytes;
}

function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return Number(value);
}

const stderrLogger: AttachLogger = {
  info: (message) => process.stderr.write(`dbgrelay attach: ${message}\n`),
  error: (message) => process.stderr.write(`dbgrelay attach: error: ${message}\n`),
};

/**
 * The VS Code `launch.json` configuration that attaches to the local port; `remoteRoot`
 * is where the program's files are on its host (the target's `root`), "." when unknown.
 */
export function launchConfiguration(target: string, host: string, port: number, remoteRoot = '.'): object {
  return {
    name: `dbgrelay: ${target}`,
    type: 'debugpy',
    request: 'attach',
    connect: { host, port },
    pathMappings: [{ localRoot: '${workspaceFolder}', remoteRoot }],
  };
}

/** The target's program root as the relay lists it, and a line saying so or why it is unknown. */
async function remoteRootOf(target: string | undefined, options: RelayDialOptions | undefined): Promise<{ root: string; note: string }> {
  const info = target !== undefined && options !== undefined ? await lookUpTarget(options, target) : undefined;
  if (info?.root !== undefined) return { root: info.root, note: `remoteRoot is where ${target} runs its program from (the agent reported it)` };
  const why = options === undefined ? 'a direct endpoint does not report it' : 'the relay did not list it to this credential, or the agent is older';
  return { root: '.', note: `remoteRoot "." assumes the program was started from its project root (${why}); change it if breakpoints are not hit` };
}

async function runAttach(target: string | undefined, flags: AttachFlagValues): Promise<void> {
  // An endpoint URL (tcps://[SECRET@]host[:port]) is a direct endpoint (agent-py `enable_attach(secret, address=...)`).
  const direct = target !== undefined && isEndpointUrl(target);
  const connection = direct ? resolveDirectConnection(target, flags) : resolveClientConnection(flags);
  // No target: a wss://SECRET@host/ptvsd URL attaches to the relay's default target.
  if (target === undefined && ptvsdBasePath(connection.endpoint) === undefined) {
    throw new RelayError('BAD_REQUEST', "name a target (dbgrelay attach <target>), or give a wss://SECRET@host/ptvsd relay URL to attach to the relay's default target");
  }
  const label = target !== undefined ? `"${target}"` : "the relay's default target (/ptvsd)";
  const identity = resolveClientIdentity(flags);
  for (const note of connection.notes) process.stderr.write(`dbgrelay attach: ${note}\n`);
  const server = await startAttachServer({
    endpoint: connection.endpoint,
    ...(direct ? { target: directEndpointTarget } : target !== undefined ? { target } : {}),
    trust: connection.trust,
    ...(identity !== undefined ? { identity } : {}),
    host: flags.host,
    port: flags.port,
    ...(flags.takeover ? { takeover: true } : {}),
    // a direct endpoint has no relay to negotiate answers sent ahead with
    prefetch: flags.prefetch && !direct,
    heartbeatMs: flags.heartbeatInterval,
    maxMessageBytes: flags.maxMessageBytes,
    logger: stderrLogger,
    ...(connection.secret !== undefined ? { secret: connection.secret } : {}),
    ...(connection.token !== undefined ? { token: connection.token } : {}),
    ...(direct ? { dial: dialDirectEndpoint } : {}),
  });
  const { address, port } = server.address;
  const token = connection.token !== undefined && !direct ? connection.token() : undefined;
  const listing: RelayDialOptions | undefined = direct
    ? undefined
    : {
        endpoint: connection.endpoint,
        trust: connection.trust,
        ...(identity !== undefined ? { identity } : {}),
        ...(connection.secret !== undefined ? { secret: connection.secret } : {}),
        ...(token !== undefined ? { token } : {}),
      };
  const remote = await remoteRootOf(target, listing);
  const what = direct ? `direct endpoint ${connection.endpoint.display}` : `${label} via ${connection.endpoint.display}`;
  process.stdout.write(
    [
      `dbgrelay attach: ${what} (${describeTrust(connection.trust)})${flags.takeover ? ', taking it over from its current holder' : ''}`,
      `listening on ${hostForUrl(address)}:${port}; each DAP connection there becomes one session with ${direct ? 'the endpoint' : label}.`,
      'VS Code launch.json configuration:',
      JSON.stringify(launchConfiguration(direct ? connection.endpoint.display.replace('tcps://', '') : (target ?? 'ptvsd'), address, port, remote.root), null, 2),
      remote.note,
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
  // Sessions are closed and their relay connections ended: exit now rather than when
  // the event loop drains. With a session open at Ctrl+C, Node 20's exit cleanup
  // (Environment::CleanupHandles) was seen waiting forever at 100% CPU on the ended
  // relay connection (wss and tcps); test/e2e/attachShutdown.test.ts.
  process.exit(process.exitCode ?? 0);
}

/** Registers `dbgrelay attach <target>`: a loopback DAP port whose connections are relay sessions with `target`. */
export function registerAttachCommand(program: Command): void {
  const command = program
    .command('attach')
    .description('open a local DAP port (VS Code "attach" with "connect") whose every connection is a debug session with <target> through the relay')
    .argument(
      '[target]',
      "name of the target, as listed by `dbgrelay targets`; leave it out with a wss://SECRET@host/ptvsd relay URL to attach to the relay's default target; " +
        'or the URL tcps://[SECRET@]host[:port] of a direct debug endpoint (a Python process that called `dbgrelay.enable_attach(secret, address=...)`, ' +
        'port 5678 by default), dialed without a relay (secret from the URL, --secret-file or DBGRELAY_SECRET; trust from --ca or --fingerprint, else the system store)',
    )
    .option('--port <port>', 'local port to listen on (0: any free port)', parsePort, 5678)
    .option('--host <address>', 'local loopback address to listen on (only loopback is allowed)', '127.0.0.1')
    .option(
      '--heartbeat-interval <ms>',
      'how often each session proves to the relay that this end is alive (wss: WebSocket ping; tcps: a heartbeat the relay answers); ' +
        'a relay silent for several intervals is taken as gone, and the relay detaches a silent client so the program never stays paused (0: off)',
      parseHeartbeatInterval,
      defaultSessionHeartbeatMs,
    )
    .option(
      '--max-message-bytes <bytes>',
      "bound on one DAP message either way; a larger one ends the session (raise it with the relay's dap.maxMessageBytes)",
      parseMaxMessageBytes,
      defaultMaxDapMessageBytes,
    )
    .option(
      '--no-prefetch',
      'do not ask for the answers the debugger needs after each stop (threads, top frames, scopes, locals and their children) to be sent ahead; ' +
        'with it each of those requests is a round trip to the program again (the answers are the same either way)',
    )
    .option(
      '--takeover',
      'take the target over if another principal is debugging it: their sessions are told why and detached cleanly (the program keeps running); ' +
        'needs the admin grant (the relay secret, a token with the admin scope), else the relay refuses with AUTH_FAILED',
    );
  addClientIdentityOptions(addClientOptions(command)).action((target: string | undefined, flags: AttachFlagValues) => runAttach(target, flags));
}
