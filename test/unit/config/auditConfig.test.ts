import { describe, expect, it } from 'vitest';
import { configErrorOf, configTestEnv } from '../../support/harness/configTestKit.js';
import { loadConfig } from '../../../src/config/loadConfig.js';

describe('audit bounds configuration', () => {
  it('bounds records, sessions and rotation by default', () => {
    expect(loadConfig({ env: configTestEnv }).audit).toMatchObject({
      maxValueChars: 4096,
      maxRecordBytes: 16 * 1024,
      maxBytesPerSessionPerMinute: 512 * 1024,
      minRetentionMs: 86_400_000,
      reserveBytes: 1024 * 1024,
    });
  });

  it('takes 0 for minRetentionMs (rotation by size only) and refuses values outside the ranges', () => {
    expect(loadConfig({ env: configTestEnv, overrides: { audit: { minRetentionMs: 0 } } }).audit.minRetentionMs).toBe(0);
    expect(configErrorOf(() => loadConfig({ env: configTestEnv, overrides: { audit: { maxRecordBytes: 100 } } }))).toContain('audit.maxRecordBytes');
    expect(configErrorOf(() => loadConfig({ env: configTestEnv, overrides: { audit: { maxBytesPerSessionPerMinute: 1024 } } }))).toContain('audit.maxBytesPerSessionPerMinute');
  });

  it('refuses a session budget smaller than one record', () => {
    const message = configErrorOf(() => loadConfig({ env: configTestEnv, overrides: { audit: { maxRecordBytes: 64 * 1024, maxBytesPerSessionPerMinute: 32 * 1024 } } }));
    expect(message).toContain('audit.maxBytesPerSessionPerMinute');
    expect(message).toContain('must be at least audit.maxRecordBytes');
  });
});
