import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../../src/common/relayError.js';
import { loadConfig } from '../../../src/config/loadConfig.js';

const env = { HOME: '/home/ops' };

describe('tls.publicNames', () => {
  it('is empty by default', () => {
    expect(loadConfig({ env }).tls.publicNames).toEqual([]);
  });

  it('comes from the config file, DBGRELAY_TLS_PUBLIC_NAMES (comma-separated) and --public-name (repeated: joined with commas), each over the one before', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dbgrelay-config-')), 'relay.yaml');
    writeFileSync(file, 'tls:\n  publicNames: [from-file.example.com]\n');
    expect(loadConfig({ env, flags: { config: file } }).tls.publicNames).toEqual(['from-file.example.com']);
    expect(loadConfig({ env: { ...env, DBGRELAY_TLS_PUBLIC_NAMES: 'relay.example.com, 10.0.0.5' }, flags: { config: file } }).tls.publicNames).toEqual([
      'relay.example.com',
      '10.0.0.5',
    ]);
    expect(loadConfig({ env: { ...env, DBGRELAY_TLS_PUBLIC_NAMES: 'relay.example.com' }, flags: { publicName: '10.0.0.5,fd00::5' } }).tls.publicNames).toEqual([
      '10.0.0.5',
      'fd00::5',
    ]);
  });

  it('is a bounded list of strings', () => {
    const refusal = (publicNames: unknown): string => {
      try {
        loadConfig({ env, overrides: { tls: { publicNames } } });
      } catch (error) {
        expect(isRelayError(error, 'CONFIG_INVALID')).toBe(true);
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(refusal('relay.example.com')).toContain('tls.publicNames: expected a list of DNS names or IP addresses');
    expect(refusal(Array.from({ length: 65 }, (_, i) => `r${i}.example.com`))).toContain('tls.publicNames: expected at most 64 names');
    expect(refusal(['x'.repeat(254)])).toContain('expected at most 253 characters');
  });

  it('refuses a scoped IPv6 address and anything else no certificate can name, as CONFIG_INVALID (exit 78) instead of a crash of serve', () => {
    const refusal = (publicName: string): string => {
      try {
        loadConfig({ env, flags: { publicName } });
      } catch (error) {
        expect(isRelayError(error, 'CONFIG_INVALID')).toBe(true);
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(refusal('fe80::1%eth0')).toContain('tls.publicNames');
    expect(refusal('fe80::1%eth0')).toContain('an IPv6 zone such as %eth0 cannot be in a certificate');
    expect(refusal('relay example')).toContain('tls.publicNames');
    expect(refusal('relay.example.com, fe80::1')).toBe('accepted');
  });
});
