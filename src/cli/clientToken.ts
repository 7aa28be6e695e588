import { readFileSync } from 'node:fs';
import { RelayError } from '../common/relayError.js';

/** Environment variable holding a bearer token for `dbgrelay attach` and `dbgrelay targets`. */
export const tokenEnvironmentVariable = 'DBGRELAY_TOKEN';

/** Bound on a token read from a file or the environment (the relay's hard limit, docs/operations.md). */
const maxTokenBytes = 7168;

function checkToken(text: string, what: string): string {
  const token = text.trim();
  if (token === '') throw new RelayError('CONFIG_INVALID', `${what} is empty`);
  if (/\s/.test(token)) throw new RelayError('CONFIG_INVALID', `${what} must hold one token with no spaces or line breaks`);
  if (Buffer.byteLength(token) > maxTokenBytes) throw new RelayError('CONFIG_INVALID', `${what} holds more than ${maxTokenBytes} bytes`);
  return token;
}

/** Reads a token file (trimmed). Errors name the file, never its content. */
export function readTokenFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new RelayError('CONFIG_INVALID', `--token-file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return checkToken(text, `--token-file: ${file}`);
}

/**
 * The bearer token a client command presents, as a function returning the current
 * token: `--token-file FILE` (read again for every session, so a refreshed file takes
 * effect without a restart), else `DBGRELAY_TOKEN`. Undefined when neither is given.
 * A token is never taken from argv. Throws `CONFIG_INVALID` (checked once up front).
 */
export function resolveClientToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv): (() => string) | undefined {
  if (tokenFile !== undefined) {
    readTokenFile(tokenFile);
    return () => readTokenFile(tokenFile);
  }
  const fromEnv = env[tokenEnvironmentVariable];
  if (fromEnv === undefined || fromEnv === '') return undefined;
  const token = checkToken(fromEnv, tokenEnvironmentVariable);
  return () => token;
}
