import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { certificateFingerprint, createCa, createLeaf } from '../../../src/certs/certificateFactory.js';
import { resolveClientIdentity } from '../../../src/cli/clientIdentityOptions.js';
import { isRelayError } from '../../../src/common/relayError.js';

describe('--cert and --key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-client-identity-'));
  const ca = createCa('client CA');
  const alice = createLeaf(ca, 'alice', { client: true });
  const bob = createLeaf(ca, 'bob', { client: true });
  writeFileSync(join(dir, 'alice.pem'), alice.certPem);
  writeFileSync(join(dir, 'alice-key.pem'), alice.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'bob-key.pem'), bob.keyPem, { mode: 0o600 });

  const codeAndMessage = (values: { cert?: string; key?: string }): string => {
    try {
      resolveClientIdentity(values);
      return 'OK';
    } catch (error) {
      return isRelayError(error) ? `${error.code}: ${error.message}` : String(error);
    }
  };

  it('gives no identity without either, and the pair with both', () => {
    expect(resolveClientIdentity({})).toBeUndefined();
    const identity = resolveClientIdentity({ cert: join(dir, 'alice.pem'), key: join(dir, 'alice-key.pem') });
    expect(identity?.fingerprint).toBe(certificateFingerprint(alice.certPem));
  });

  it('refuses one without the other, a key of another certificate, and unreadable files', () => {
    expect(codeAndMessage({ cert: join(dir, 'alice.pem') })).toBe('CONFIG_INVALID: give both --cert and --key, or neither');
    const mismatch = codeAndMessage({ cert: join(dir, 'alice.pem'), key: join(dir, 'bob-key.pem') });
    expect(mismatch).toMatch(/^CONFIG_INVALID: --cert\/--key: .*bob-key\.pem is not the private key of .*alice\.pem/);
    expect(mismatch).not.toContain('PRIVATE KEY');
    expect(codeAndMessage({ cert: join(dir, 'nope.pem'), key: join(dir, 'alice-key.pem') })).toMatch(/^CONFIG_INVALID: --cert: cannot read/);
    expect(codeAndMessage({ cert: join(dir, 'alice-key.pem'), key: join(dir, 'alice-key.pem') })).toMatch(/^CONFIG_INVALID: --cert: .* is not a PEM certificate/);
  });
});
