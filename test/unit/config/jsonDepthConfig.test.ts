import { describe, expect, it } from 'vitest';
import { configErrorOf, configTestEnv } from '../../support/harness/configTestKit.js';
import { maxJsonDepth } from '../../../src/common/jsonDepth.js';
import { loadConfig } from '../../../src/config/loadConfig.js';

describe('limits.maxJsonDepth', () => {
  it(`defaults to ${maxJsonDepth} and is read from DBGRELAY_MAX_JSON_DEPTH`, () => {
    expect(loadConfig({ env: configTestEnv }).limits.maxJsonDepth).toBe(64);
    expect(loadConfig({ env: { ...configTestEnv, DBGRELAY_MAX_JSON_DEPTH: '32' } }).limits.maxJsonDepth).toBe(32);
  });

  it('takes 16 to 512 and refuses values outside (a bound below DAP, or near the stack limit)', () => {
    expect(loadConfig({ env: configTestEnv, overrides: { limits: { maxJsonDepth: 16 } } }).limits.maxJsonDepth).toBe(16);
    expect(loadConfig({ env: configTestEnv, overrides: { limits: { maxJsonDepth: 512 } } }).limits.maxJsonDepth).toBe(512);
    expect(configErrorOf(() => loadConfig({ env: configTestEnv, overrides: { limits: { maxJsonDepth: 15 } } }))).toContain('limits.maxJsonDepth');
    expect(configErrorOf(() => loadConfig({ env: configTestEnv, overrides: { limits: { maxJsonDepth: 513 } } }))).toContain('limits.maxJsonDepth');
  });
});
