import pino from 'pino';

/** The relay's structured logger (pino). Passed in everywhere; there is no global logger. */
export type Logger = pino.Logger;

/** Subsystem tags carried by every log line in the `tag` field. */
export type LogTag = 'auth' | 'agent' | 'session' | 'tls' | 'config' | 'relay' | 'targets' | 'ssh' | 'cluster' | 'console';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** pino level, or `silent`. */
  readonly level: string;
  /** Append JSON lines to this file instead of stdout. */
  readonly file?: string | undefined;
}

/**
 * Field names that hold credentials (matched exactly; pino redaction is
 * case-sensitive, and these are the spellings the code base and its libraries use).
 */
export const secretFieldNames: readonly string[] = [
  'secret',
  'token',
  'password',
  'passphrase',
  'authorization',
  'credential',
  'credentials',
  'attachSecret',
  'agentSecret',
  'bearerToken',
  'accessToken',
  'refreshToken',
  'privateKey',
  'apiKey',
  'cookie',
];

/**
 * Paths censored wherever they appear (top level and one level down, plus HTTP
 * headers one and two levels down). Code never logs credentials on purpose; this is
 * the safety net.
 */
export const redactedPaths: readonly string[] = [
  ...secretFieldNames,
  ...secretFieldNames.map((name) => `*.${name}`),
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
  'config.auth.secret',
];

/** A logger and the way to flush and release its destination. */
export interface LoggerHandle {
  readonly logger: Logger;
  close(): void;
}

/**
 * Creates the JSON logger: stdout by default, or the `file` (created if needed).
 * `stream` overrides both (tests capture lines to check what was logged).
 */
export function createLogger(options: LoggerOptions, stream?: pino.DestinationStream): LoggerHandle {
  const pinoOptions: pino.LoggerOptions = {
    level: options.level,
    base: { pid: process.pid },
    redact: { paths: [...redactedPaths], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (stream) return { logger: pino(pinoOptions, stream), close: () => undefined };
  const destination = pino.destination({ dest: options.file ?? 1, sync: true, mkdir: options.file !== undefined });
  const logger = pino(pinoOptions, destination);
  return {
    logger,
    close: () => {
      destination.flushSync();
      if (options.file !== undefined) destination.end();
    },
  };
}

/** A child logger whose lines carry `tag`. */
export function tagged(logger: Logger, tag: LogTag, bindings: Record<string, unknown> = {}): Logger {
  return logger.child({ tag, ...bindings });
}
