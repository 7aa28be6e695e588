import type { Registry } from 'prom-client';
import type { AuditSink } from '../audit/auditEvent.js';
import type { AuthenticatorHolder } from '../auth/authenticatorHolder.js';
import { auditLogFile } from '../audit/auditReader.js';
import type { RelayConfig } from '../config/configSchema.js';
import { tagged, type Logger } from '../log/logger.js';
import { ConsoleMetrics } from '../metrics/consoleMetrics.js';
import type { SessionBroker } from '../session/sessionBroker.js';
import { ConsoleAuditReads } from './consoleAuditReads.js';
import { ConsoleLogins } from './consoleLogins.js';
import { WebConsole } from './webConsole.js';

/**
 * The web console of a relay configuration, undefined when `console.enabled` is off.
 * Every swap of `authenticator` (a reload: new secret, new JWT keys) ends every login.
 */
export function webConsoleFor(
  config: RelayConfig,
  broker: SessionBroker,
  audit: AuditSink,
  registry: Registry,
  logger: Logger,
  authenticator: Pick<AuthenticatorHolder, 'onSwap'>,
): WebConsole | undefined {
  const settings = config.console;
  if (!settings.enabled) return undefined;
  const logins = new ConsoleLogins({ lifetimeMs: settings.loginLifetimeMs, maxLogins: settings.maxLogins, maxLoginsPerPrincipal: settings.maxLoginsPerPrincipal });
  authenticator.onSwap(() => logins.clear());
  const metrics = new ConsoleMetrics(registry, () => logins.size);
  const auditBounds = { file: auditLogFile(config), pageSize: settings.auditPageSize, maxScanBytes: settings.auditScanMaxBytes };
  return new WebConsole({
    logins,
    broker,
    audit,
    auditReads: config.audit.enabled ? new ConsoleAuditReads(auditBounds, metrics) : undefined,
    maxBodyBytes: config.limits.maxControlMessageBytes,
    pendingActions: new Set(),
    metrics,
    logger: tagged(logger, 'console'),
  });
}
