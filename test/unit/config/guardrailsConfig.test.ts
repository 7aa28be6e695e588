import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configErrorOf, configTestEnv } from '../../support/harness/configTestKit.js';
import { loadConfig } from '../../../src/config/loadConfig.js';

const env = configTestEnv;

describe('guardrail configuration', () => {
  it('has safe defaults: full policy, exclusive sessions, watchdog off, durable audit on', () => {
    const config = loadConfig({ env });
    expect(config.policies).toEqual({ default: 'full', targets: {}, principals: {} });
    expect(config.pauseWatchdog).toEqual({ maxPauseMs: 0, targets: {} });
    expect(config.sessions).toEqual({ exclusive: true, detachTimeoutMs: 5000, takeoverTimeoutMs: 10000 });
    expect(config.audit).toMatchObject({ enabled: true, sync: true, maxFiles: 10, transcripts: { enabled: false } });
    expect(config.audit.file).toBeUndefined(); // <dataDir>/audit.log at start
  });

  it('reads policies, watchdog rules and audit paths from the file (paths relative to it)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'guard-config-'));
    const file = join(dir, 'relay.yaml');
    writeFileSync(
      file,
      [
        'policies:',
        '  default: no-eval',
        '  targets: { "prod-*": logpoints-only }',
        '  principals: { "jwt:oncall-*": full }',
        'pauseWatchdog: { maxPauseMs: 30000, targets: { "web-*": 20000 } }',
        'audit: { file: logs/audit.log, transcripts: { enabled: true, dir: transcripts } }',
      ].join('\n'),
    );
    const config = loadConfig({ env, flags: { config: file } });
    expect(config.policies.targets).toEqual({ 'prod-*': 'logpoints-only' });
    expect(config.policies.principals).toEqual({ 'jwt:oncall-*': 'full' });
    expect(config.pauseWatchdog).toEqual({ maxPauseMs: 30000, targets: { 'web-*': 20000 } });
    expect(config.audit.file).toBe(join(dir, 'logs', 'audit.log'));
    expect(config.audit.transcripts.dir).toBe(join(dir, 'transcripts'));
  });

  it('names the key of a bad value', () => {
    expect(configErrorOf(() => loadConfig({ env, overrides: { policies: { default: 'read-only' } } }))).toMatch(/policies\.default: expected one of full, no-eval, logpoints-only/);
    expect(configErrorOf(() => loadConfig({ env, overrides: { policies: { targets: { 'web-*': 'nope' } } } }))).toMatch(/policies\.targets\.web-\*/);
    expect(configErrorOf(() => loadConfig({ env: { ...env, DBGRELAY_MAX_PAUSE_MS: '-5' } }))).toMatch(
      /pauseWatchdog\.maxPauseMs: expected integer between 0 and 86400000, given -5 \(from DBGRELAY_MAX_PAUSE_MS\)/,
    );
    expect(configErrorOf(() => loadConfig({ env, overrides: { audit: { bogus: 1 } } }))).toMatch(/audit\.bogus: unknown key/);
  });
});
