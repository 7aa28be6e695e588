import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../../src/common/relayError.js';
import { loadConfig } from '../../../src/config/loadConfig.js';

function configError(run: () => unknown): string {
  try {
    run();
    return 'OK';
  } catch (error) {
    return isRelayError(error, 'CONFIG_INVALID') ? error.message : String(error);
  }
}

describe('auth.attachSecrets', () => {
  it('defaults to a 16-character minimum and a per-target guess limit of 10 a minute, closings of 5 s to 60 s', () => {
    expect(loadConfig({ env: {} }).auth.attachSecrets).toEqual({
      minLength: 16,
      guessLimit: { enabled: true, threshold: 10, windowMs: 60_000, baseMs: 5_000, maxMs: 60_000, maxTargets: 10_000, trustedSourceMs: 43_200_000 },
    });
  });

  it('may raise the minimum, never lower it below 16', () => {
    expect(loadConfig({ env: {}, overrides: { auth: { attachSecrets: { minLength: 32 } } } }).auth.attachSecrets.minLength).toBe(32);
    expect(configError(() => loadConfig({ env: {}, overrides: { auth: { attachSecrets: { minLength: 8 } } } }))).toContain(
      'auth.attachSecrets.minLength: expected integer between 16 and 4096',
    );
  });

  it('refuses bad guess-limit bounds and unknown keys, naming the key', () => {
    expect(configError(() => loadConfig({ env: {}, overrides: { auth: { attachSecrets: { guessLimit: { threshold: 0 } } } } }))).toContain(
      'auth.attachSecrets.guessLimit.threshold',
    );
    expect(configError(() => loadConfig({ env: {}, overrides: { auth: { attachSecrets: { guessLimit: { maxTargets: 10 } } } } }))).toContain(
      'auth.attachSecrets.guessLimit.maxTargets',
    );
    expect(configError(() => loadConfig({ env: {}, overrides: { auth: { attachSecrets: { maxGuesses: 1 } } } }))).toContain('auth.attachSecrets');
  });
});
