import { chmodSync, mkdirSync } from 'node:fs';
import { AuthenticatorHolder } from '../auth/authenticatorHolder.js';
import { resolveRelaySecret, type RelaySecret } from '../auth/relaySecret.js';
import { RelayError } from '../common/relayError.js';
import type { RelayConfig } from '../config/configSchema.js';
import { tagged, type Logger } from '../log/logger.js';
import { buildAuthenticator } from './relayReloader.js';
import { loadTlsMaterial, type TlsMaterial } from './tlsMaterial.js';

/** What a relay authenticates peers with and presents to them, loaded once at start. */
export interface RelayCredentials {
  readonly secret: RelaySecret;
  /** Consulted by the listeners for every connection; a reload swaps what it holds. */
  readonly authenticator: AuthenticatorHolder;
  readonly tls: TlsMaterial;
}

function prepareDataDir(dataDir: string): void {
  try {
    const created = mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (created !== undefined) chmodSync(dataDir, 0o700); // mode is subject to the umask
  } catch (error) {
    throw new RelayError('CONFIG_INVALID', `dataDir: cannot create ${dataDir} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * Creates the data directory, then loads (or creates) the relay secret and the TLS
 * material, logging what it created and what looks unsafe. `onSecretCreated` is told a
 * secret created now, once; nothing here prints or logs a secret. Throws
 * `CONFIG_INVALID` naming the key.
 */
export function loadRelayCredentials(config: RelayConfig, logger: Logger, onSecretCreated?: (secret: string, file: string) => void): RelayCredentials {
  prepareDataDir(config.dataDir);
  const secret = resolveRelaySecret(config.auth.secret, config.auth.secretFile);
  const configLog = tagged(logger, 'config');
  if (secret.created) {
    configLog.info({ secretFile: secret.file }, 'created a new relay secret');
    onSecretCreated?.(secret.secret, secret.file);
  }
  if (secret.looseFileMode) configLog.warn({ secretFile: secret.file }, 'secret file is readable by group or others; chmod 600 it');
  if (secret.secret.length < 16) configLog.warn('the relay secret is shorter than 16 characters');
  const authenticator = new AuthenticatorHolder(buildAuthenticator(secret.secret, config, logger));
  if (config.auth.jwt.enabled) {
    const { algorithms, issuer, audience, keyFile, jwksFile, jwksUrl, maxLifetimeS } = config.auth.jwt;
    configLog.info({ algorithms, issuer, audience, keyFile, jwksFile, jwksUrl, maxLifetimeS }, 'JWT bearer tokens enabled');
  }
  const tls = loadTlsMaterial(config);
  if (tls.created) tagged(logger, 'tls').info({ caFile: tls.caFile, caFingerprint: tls.caFingerprint }, 'created development CA and server certificate');
  if (tls.remade) tagged(logger, 'tls').info({ names: tls.names }, 'made the development server certificate again for tls.publicNames, signed by the same CA');
  return { secret, authenticator, tls };
}
