import type { Registry } from 'prom-client';
import type { AuditSink } from '../audit/auditEvent.js';
import { auditLogFile } from '../audit/auditReader.js';
import type { RelayConfig } from '../config/configSchema.js';
import { tagged, type Logger } from '../log/logger.js';
import { ConsoleMetrics } from '../metrics/consoleMetrics.js';
import type { SessionBroker } from '../session/sessionBroker.js';
import { ConsoleLogins } from './consoleLogins.js';
import { WebConsole } from './webConsole.js';

/** The web console of a relay configuration, undefined when `console.enabled` is off. */
export function webConsoleFor(config: RelayConfig, broker: SessionBroker, audit: AuditSink, registry: Registry, logger: Logger): WebConsole | undefined {
  const settings = config.console;
  if (!settings.enabled) return undefined;
  const logins = new ConsoleLogins({ lifetimeMs: settings.loginLifetimeMs, maxLogins: settings.maxLogins });
  return new WebConsole({
    logins,
    broker,
    audit,
    auditFile: config.audit.enabled ? auditLogFile(config) : undefined,
    auditPageSize: settings.auditPageSize,
    maxBodyBytes: config.limits.maxControlMessageBytes,
    metrics: new ConsoleMetrics(registry, () => logins.size),
    logger: tagged(logger, 'console'),
  });
}
