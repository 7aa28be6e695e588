import { InvalidArgumentError, Option, type Command } from 'commander';
import { RelayError } from '../common/relayError.js';
import type { DoctorCheckResult } from '../doctor/doctorCheck.js';
import { firstFailure } from '../doctor/doctorCheck.js';
import { runDoctor } from '../doctor/runDoctor.js';
import { printable } from '../common/printable.js';
import { addClientIdentityOptions, resolveClientIdentity, type ClientIdentityFlagValues } from './clientIdentityOptions.js';
import { addClientOptions, resolveClientConnection, type ClientFlagValues } from './clientOptions.js';
import { agentRelayCredential } from './agentCredential.js';
import { credentialSourceOf } from './credentialSource.js';
import { exitStatusFor, exitStatusHelp } from './exitCodes.js';
import { adviceFor } from './failureAdvice.js';

interface DoctorFlagValues extends ClientFlagValues, ClientIdentityFlagValues {
  readonly as: 'client' | 'agent';
  /** With `--as agent`: the agent's `--agent-secret-file`. */
  readonly agentSecretFile?: string;
  readonly json?: boolean;
  readonly timeout: number;
  readonly maxClockSkew: number;
  readonly target?: string;
}

function milliseconds(value: string): number {
  if (!/^\d{1,7}$/.test(value) || Number(value) < 100) throw new InvalidArgumentError('expected milliseconds, at least 100');
  return Number(value);
}

/** `flags` with the relay URL's `secret@` taken out: with `--as agent` it is one of the agent's credentials, chosen by its own order. */
function withoutUrlSecret(flags: DoctorFlagValues): DoctorFlagValues {
  return flags.relay === undefined ? flags : { ...flags, relay: flags.relay.replace(/^([^:/?#]*:\/\/)[^@/?#]*@/s, '$1') };
}

const statusLabel: Readonly<Record<DoctorCheckResult['status'], string>> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

/** The report as a person reads it: one line per check, its fix indented below it. */
export function formatDoctorReport(relay: string, role: string, results: readonly DoctorCheckResult[]): string {
  const lines = [`dbgrelay doctor: ${relay} as ${role}`];
  for (const result of results) {
    lines.push(`  ${statusLabel[result.status].padEnd(5)} ${result.check.padEnd(11)} ${printable(result.summary)}`);
    const chain = result.check === 'tls' ? (result.details?.['chain'] as Array<Record<string, string>> | undefined) : undefined;
    for (const [i, cert] of (chain ?? []).entries()) {
      lines.push(
        // The relay is not trusted yet: what its certificate says is shown with control characters replaced.
        `${' '.repeat(20)}${i === 0 ? 'server' : 'issuer'}: ${printable(`${cert['subject']}; names ${cert['subjectAltName'] ?? '(none)'}; issued by ${cert['issuer']}; until ${cert['validTo']}; ${cert['fingerprint']}`)}`,
      );
    }
    if (result.fix !== undefined && result.status !== 'ok') lines.push(`${' '.repeat(20)}fix: ${printable(result.fix)}`);
  }
  const failed = firstFailure(results);
  lines.push(failed ? `first failure: ${failed.check}${failed.code ? ` (${failed.code})` : ''}` : 'no failure');
  return `${lines.join('\n')}\n`;
}

/** Registers `dbgrelay doctor`: checks the way from this host to the relay, and says what to do about each failure. */
export function registerDoctorCommand(program: Command): void {
  const command = program
    .command('doctor')
    .description(
      'check the way from this host to the relay: proxy, DNS, TCP connect, TLS chain and names, clock skew, the token, and the credential with the relay; ' +
        'each failure says what to do; exits with the status of the first failure',
    )
    .addOption(
      new Option(
        '--as <role>',
        "whose credential to check: client (the flags and variables of attach and targets) or agent (the Python agent's, in its order: " +
          '--token-file, --agent-secret-file or a secret@ in the URL; DBGRELAY_TOKEN[_FILE] or DBGRELAY_AGENT_SECRET[_FILE]; --secret-file or DBGRELAY_SECRET[_FILE])',
      )
        .choices(['client', 'agent'])
        .default('client'),
    )
    .option('--agent-secret-file <file>', "with --as agent: the file of the agent's secret (the agent's --agent-secret-file)")
    .option('--json', 'print the checks as JSON')
    .option('--target <name>', "also ask the relay whether attaching to this target would be admitted now (wss; takes a target's attach secret too)")
    .option('--timeout <ms>', 'bound on each network check', milliseconds, 5_000)
    .option('--max-clock-skew <ms>', "difference between this host's clock and the relay's past which the clock check warns", milliseconds, 30_000);
  addClientIdentityOptions(addClientOptions(command))
    .addHelpText('after', exitStatusHelp)
    .action(async (flags: DoctorFlagValues) => {
      const agent = flags.as === 'agent' ? agentRelayCredential(flags, process.env) : undefined;
      // The agent's credential is chosen above in its own order: the client's resolution only finds relay and trust.
      const connection = resolveClientConnection(agent ? withoutUrlSecret(flags) : flags, process.env, {
        credential: agent ? 'ignored' : 'optional',
        proxyUnchecked: true,
      });
      if (!flags.json) for (const note of connection.notes) process.stderr.write(`dbgrelay doctor: ${note}\n`);
      const credential = credentialSourceOf(flags, connection, process.env);
      const chosen = agent !== undefined && 'credential' in agent ? agent.credential : undefined;
      const source = agent ? (chosen?.source ?? 'no credential') : credential.description;
      const identity = resolveClientIdentity(connection.identityFiles ?? flags);
      const secret = agent ? (chosen?.kind === 'secret' ? chosen.value : undefined) : connection.secret;
      const token = agent ? (chosen?.kind === 'token' ? chosen.value : undefined) : connection.token?.();
      const credentialProblem = agent !== undefined && 'problem' in agent ? agent.problem : connection.missingCredential;
      const results = await runDoctor({
        endpoint: connection.endpoint,
        trust: connection.trust,
        ...(identity !== undefined ? { identity } : {}),
        ...(secret !== undefined ? { secret } : {}),
        ...(token !== undefined ? { token } : {}),
        ...(credentialProblem !== undefined ? { credentialProblem } : {}),
        credentialSource: source,
        ...(flags.target !== undefined ? { target: flags.target } : {}),
        role: flags.as,
        timeoutMs: flags.timeout,
        maxClockSkewMs: flags.maxClockSkew,
        env: process.env,
        adviseRefusal: (error) => adviceFor(error, { command: 'doctor', credential: agent ? { kind: chosen?.kind ?? 'none', description: source } : credential }),
      });
      const failed = firstFailure(results);
      const exitStatus = failed?.code !== undefined ? exitStatusFor(new RelayError(failed.code, failed.summary)) : failed ? 1 : 0;
      if (flags.json) process.stdout.write(`${JSON.stringify({ relay: connection.endpoint.display, as: flags.as, exitStatus, checks: results }, null, 2)}\n`);
      else process.stdout.write(formatDoctorReport(connection.endpoint.display, flags.as, results));
      process.exitCode = exitStatus;
    });
}
