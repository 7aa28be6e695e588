import { describe, expect, it } from 'vitest';
import { configErrorOf, configTestEnv } from '../../support/harness/configTestKit.js';
import { loadConfig } from '../../../src/config/loadConfig.js';

const env = configTestEnv;

describe('lifecycle.goawayRetryAfterMs', () => {
  it('defaults to 2000 ms and takes 0 to one hour (the protocol bound of goaway.retryAfterMs)', () => {
    expect(loadConfig({ env }).lifecycle.goawayRetryAfterMs).toBe(2000);
    expect(loadConfig({ env, overrides: { lifecycle: { goawayRetryAfterMs: 0 } } }).lifecycle.goawayRetryAfterMs).toBe(0);
    expect(loadConfig({ env, overrides: { lifecycle: { goawayRetryAfterMs: 3_600_000 } } }).lifecycle.goawayRetryAfterMs).toBe(3_600_000);
  });

  it('refuses values outside, naming the key', () => {
    expect(configErrorOf(() => loadConfig({ env, overrides: { lifecycle: { goawayRetryAfterMs: -1 } } }))).toContain('lifecycle.goawayRetryAfterMs');
    expect(configErrorOf(() => loadConfig({ env, overrides: { lifecycle: { goawayRetryAfterMs: 3_600_001 } } }))).toContain('lifecycle.goawayRetryAfterMs');
    expect(configErrorOf(() => loadConfig({ env, overrides: { lifecycle: { goawayRetryAfterMs: 1.5 } } }))).toContain('lifecycle.goawayRetryAfterMs');
  });
});

describe('limits.httpKeepAliveTimeoutMs', () => {
  it("defaults to 5000 ms (Node's own default) and takes 1 ms to one hour", () => {
    expect(loadConfig({ env }).limits.httpKeepAliveTimeoutMs).toBe(5000);
    expect(loadConfig({ env, overrides: { limits: { httpKeepAliveTimeoutMs: 1 } } }).limits.httpKeepAliveTimeoutMs).toBe(1);
    expect(loadConfig({ env, overrides: { limits: { httpKeepAliveTimeoutMs: 3_600_000 } } }).limits.httpKeepAliveTimeoutMs).toBe(3_600_000);
  });

  it('refuses values outside, naming the key', () => {
    expect(configErrorOf(() => loadConfig({ env, overrides: { limits: { httpKeepAliveTimeoutMs: 0 } } }))).toContain('limits.httpKeepAliveTimeoutMs');
    expect(configErrorOf(() => loadConfig({ env, overrides: { limits: { httpKeepAliveTimeoutMs: 3_600_001 } } }))).toContain('limits.httpKeepAliveTimeoutMs');
  });
});
