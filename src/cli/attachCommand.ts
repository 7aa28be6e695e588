import { InvalidArgumentError, type Command } from 'commander';
import { startAttachServer, type AttachLogger } from '../client/attachServer.js';
import { defaultSessionHeartbeatMs } from '../dial/relayDialer.js';
import type { RelayDialOptions } from '../dial/relayRequests.js';
import { lookUpTargetEntry } from '../client/targetLookup.js';
import { dialDirectEndpoint, directEndpointTarget } from '../dial/directEndpointDialer.js';
import { hostForUrl, ptvsdBasePath, redactRelayUrl } from '../dial/relayEndpoint.js';
import { RelayError } from '../common/relayError.js';
import { defaultMaxDapMessageBytes, maxMaxDapMessageBytes, minMaxDapMessageBytes } from '../protocol/dapMessageBound.js';
import { describeTrust } from '../dial/tlsTrust.js';
import { describeRelayError } from '../dial/relayRefusal.js';
import { checkBeforeAttach, defaultCheckTimeoutMs, type AttachCheck } from '../client/attachPreflight.js';
import { credentialSourceOf } from './credentialSource.js';
import { withAdvice, type FailureContext } from './failureAdvice.js';
import { exitStatusHelp } from './exitCodes.js';
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
  /** False with `--no-check`. */
  readonly check: boolean;
  readonly checkTimeout: number;
  readonly json?: boolean;
}

function parseCheckTimeout(value: string): number {
  if (!/^\d{1,6}$/.test(value) || Number(value) < 100) throw new InvalidArgumentError('expected milliseconds, at least 100');
  return Number(value);
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

/**
 * The target's program root as the relay lists it, and a line saying so or why it is
 * unknown. After the checks before listening, their entry is final: the list is never
 * asked again (a target's attach secret may not list, and each refused listing counts
 * as a failed attempt toward the lockout). With `--no-check` the entry is looked up now.
 */
async function remoteRootOf(
  target: string | undefined,
  options: RelayDialOptions | undefined,
  checked: AttachCheck | undefined,
  secretCredential: boolean,
): Promise<{ root: string; note: string }> {
  const info = checked !== undefined ? checked.target : target !== undefined && options !== undefined ? await lookUpTargetEntry(options, target, secretCredential) : undefined;
  if (info?.root !== undefined) return { root: info.root, note: `remoteRoot is where ${target} runs its program from (the agent reported it)` };
  const why =
    options === undefined
      ? 'a direct endpoint does not report it'
      : "the relay did not give it to this credential (a secret never asks the target list: it may be a target's attach secret), or the agent is older";
  return { root: '.', note: `remoteRoot "." assumes the program was started from its project root (${why}); change it if breakpoints are not hit` };
}

async function runAttach(target: string | undefined, flags: AttachFlagValues): Promise<void> {
  // An endpoint URL (tcps://[SECRET@]host[:port]) is a direct endpoint (agent-py `enable_attach(secret, address=...)`).
  const direct = target !== undefined && isEndpointUrl(target);
  if (direct && flags.context !== undefined) {
    // A context names a relay and its credential; a direct endpoint is no relay, so none of it would be used.
    throw new RelayError(
      'BAD_REQUEST',
      `--context does not apply to a direct endpoint (${redactRelayUrl(target)}): a context names a relay and its credential; give the endpoint's secret with --secret-file or DBGRELAY_SECRET and its trust with --ca or --fingerprint`,
    );
  }
  const connection = direct ? resolveDirectConnection(target, flags) : resolveClientConnection(flags);
  // No target: a wss://SECRET@host/ptvsd URL attaches to the relay's default target.
  if (target === undefined && ptvsdBasePath(connection.endpoint) === undefined) {
    throw new RelayError('BAD_REQUEST', "name a target (dbgrelay attach <target>), or give a wss://SECRET@host/ptvsd relay URL to attach to the relay's default target");
  }
  const label = target !== undefined ? `"${target}"` : "the relay's default target (/ptvsd)";
  const identity = resolveClientIdentity(connection.identityFiles ?? flags);
  for (const note of connection.notes) process.stderr.write(`dbgrelay attach: ${note}\n`);
  const credential = credentialSourceOf(flags, connection, process.env, direct ? target : undefined);
  const failure: FailureContext = { command: 'attach', credential, direct, ...(flags.takeover ? { takeover: true } : {}) };
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
  let checked: AttachCheck | undefined;
  if (flags.check) {
    // Before anything listens: relay reachable and trusted, credential accepted, target listed to it.
    try {
      const outcome = await checkBeforeAttach({
        ...(listing ?? {
          endpoint: connection.endpoint,
          trust: connection.trust,
          ...(identity !== undefined ? { identity } : {}),
          ...(connection.secret !== undefined ? { secret: connection.secret } : {}),
        }),
        target,
        direct,
        secretCredential: credential.kind === 'secret',
        ...(flags.takeover ? { takeover: true } : {}),
        timeoutMs: flags.checkTimeout,
      });
      checked = outcome;
      for (const note of outcome.notes) process.stderr.write(`dbgrelay attach: ${note}\n`);
    } catch (error) {
      throw withAdvice(error, failure);
    }
  }
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
    describeRefusal: (error) => describeRelayError(withAdvice(error, failure)),
  });
  const { address, port } = server.address;
  const remote = await remoteRootOf(target, listing, checked, credential.kind === 'secret');
  const what = direct ? `direct endpoint ${connection.endpoint.display}` : `${label} via ${connection.endpoint.display}`;
  const configuration = JSON.stringify(launchConfiguration(direct ? connection.endpoint.display.replace('tcps://', '') : (target ?? 'ptvsd'), address, port, remote.root), null, 2);
  const lines = [
    `dbgrelay attach: ${what} (${describeTrust(connection.trust)})${flags.takeover ? ', taking it over from its current holder' : ''}${flags.check ? ', checked' : ''}`,
    `listening on ${hostForUrl(address)}:${port}; each DAP connection there becomes one session with ${direct ? 'the endpoint' : label}.`,
  ];
  if (flags.json) {
    // stdout holds the launch configuration alone, for scripts; the rest goes to stderr.
    process.stderr.write([...lines, remote.note, 'Press Ctrl+C to stop.', ''].join('\n'));
    process.stdout.write(`${configuration}\n`);
  } else {
    process.stdout.write([...lines, 'VS Code launch.json configuration:', configuration, remote.note, 'Press Ctrl+C to stop.', ''].join('\n'));
  }
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
      '--no-check',
      'listen at once, without first checking that the relay is reachable and trusted, the credential accepted and the target connected and listed to it ' +
        '(for scripts that start the listener before the target connects)',
    )
    .option('--check-timeout <ms>', 'bound on those checks, all of them together', parseCheckTimeout, defaultCheckTimeoutMs)
    .option('--json', 'print the VS Code launch configuration alone on stdout (everything else goes to stderr)')
    .option(
      '--takeover',
      'take the target over if another principal is debugging it: their sessions are told why and detached cleanly (the program keeps running); ' +
        'needs the admin grant (the relay secret, a token with the admin scope), else the relay refuses with AUTH_FAILED',
    );
  addClientIdentityOptions(addClientOptions(command))
    .addHelpText('after', exitStatusHelp)
    .action((target: string | undefined, flags: AttachFlagValues) => runAttach(target, flags));
}
