import type { Command } from 'commander';
import { issueToken } from '../auth/tokenIssuer.js';
import { decodeUnverified, formatInspection } from '../auth/tokenInspection.js';
import { parseDurationSeconds } from '../common/durationText.js';
import { RelayError } from '../common/relayError.js';
import { loadConfig } from '../config/loadConfig.js';

interface IssueFlags {
  readonly sub: string;
  readonly scope: string[];
  readonly ttl: string;
  readonly kid?: string;
  readonly config?: string;
}

interface InspectFlags {
  readonly json?: boolean;
}

/** Bound on a token read from standard input. */
const maxStdinBytes = 64 * 1024;

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    process.stdin.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxStdinBytes) {
        process.stdin.destroy();
        reject(new RelayError('BAD_REQUEST', `standard input holds more than ${maxStdinBytes} bytes`));
      } else chunks.push(chunk);
    });
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

const issueHelp = [
  '',
  'Signs with auth.jwt.signingKeyFile of the relay configuration (--config or',
  'DBGRELAY_CONFIG, plus DBGRELAY_* variables): a PEM private key (RS256, ES256,',
  'EdDSA), a private JWK, or an HS256 secret. iss and aud come from auth.jwt.issuer and',
  'auth.jwt.audience; iat, exp and a random jti are set. The token goes to standard',
  'output and nowhere else; a summary goes to standard error.',
  '',
  'Scopes: admin (list every target), register:<pattern> (agent), attach:<pattern>',
  '(client); * matches any run of characters, ? one character.',
  '',
  'Examples:',
  "  dbgrelay token issue --sub alice --scope 'attach:web-*' --ttl 15m > alice.jwt",
  '  dbgrelay attach web-1 --token-file alice.jwt',
  "  dbgrelay token issue --sub web-agent --scope 'register:web-*' --ttl 24h",
  '',
].join('\n');

/** Registers `dbgrelay token issue` and `dbgrelay token inspect`. */
export function registerTokenCommand(program: Command): void {
  const token = program.command('token').description('issue and inspect JWT bearer tokens for the relay');

  token
    .command('issue')
    .description("sign a token with the relay's configured signing key and print it on stdout")
    .requiredOption('--sub <subject>', 'subject (sub claim); the relay names the principal jwt:<subject>')
    .requiredOption(
      '--scope <scope>',
      'scope to grant: admin, register:<pattern> or attach:<pattern>; repeatable, or several separated by spaces',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), ...value.split(/\s+/).filter(Boolean)],
    )
    .option('--ttl <duration>', 'lifetime, e.g. 90s, 15m, 2h, 1d; at most auth.jwt.maxLifetimeS', '15m')
    .option('--kid <kid>', "key id header (default: the signing JWK's kid, if any)")
    .option('-c, --config <file>', 'relay config file (env DBGRELAY_CONFIG)')
    .addHelpText('after', issueHelp)
    .action(async (flags: IssueFlags) => {
      const config = loadConfig({ flags: flags.config !== undefined ? { config: flags.config } : {} });
      const issued = await issueToken(config.auth.jwt, {
        subject: flags.sub,
        scopes: flags.scope,
        ttlS: parseDurationSeconds(flags.ttl, '--ttl'),
        ...(flags.kid !== undefined ? { kid: flags.kid } : {}),
      });
      process.stdout.write(issued.token + '\n');
      process.stderr.write(
        `dbgrelay token: ${issued.algorithm} token for jwt:${flags.sub} (${flags.scope.join(' ')}), jti ${issued.jti}, expires ${issued.expiresAt.toISOString()}\n`,
      );
    });

  token
    .command('inspect')
    .description('decode a token and show its header and claims WITHOUT verifying it')
    .argument('[token]', 'the token, or - (the default) to read it from standard input, which keeps it out of the process list')
    .option('--json', 'print {"verified": false, "header": ..., "claims": ...} as JSON')
    .addHelpText('after', '\nNothing is verified: not the signature, issuer, audience or expiry. Use it to see\nwhat a token claims, never to decide whether to trust it.')
    .action(async (value: string | undefined, flags: InspectFlags) => {
      const fromStdin = value === undefined || value === '-';
      if (fromStdin && process.stdin.isTTY) process.stderr.write('dbgrelay token: reading the token from standard input (paste it, then Ctrl+D)\n');
      const text = fromStdin ? await readStdin() : value;
      const decoded = decodeUnverified(text);
      if (flags.json) process.stdout.write(JSON.stringify(decoded, null, 2) + '\n');
      else process.stdout.write(formatInspection(decoded));
    });
}
