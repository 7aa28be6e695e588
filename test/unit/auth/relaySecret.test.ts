import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSecret, resolveRelaySecret } from '../../../src/auth/relaySecret.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'dbgrelay-secret-'));

describe('resolveRelaySecret', () => {
  it('creates a random 32-byte base64url secret with mode 0600 once, then reads it back', () => {
    const file = join(dir(), 'secret');
    const first = resolveRelaySecret(undefined, file);
    expect(first.created).toBe(true);
    expect(first.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = resolveRelaySecret(undefined, file);
    expect(second).toMatchObject({ created: false, secret: first.secret, source: 'file', looseFileMode: false });
  });

  it('prefers a configured secret and does not touch the file', () => {
    const file = join(dir(), 'secret');
    expect(resolveRelaySecret('from-env', file)).toMatchObject({ secret: 'from-env', source: 'config', created: false });
    expect(() => readFileSync(file)).toThrow();
  });

  it('trims the file, flags a loose mode, refuses an empty file without quoting it', () => {
    const file = join(dir(), 'secret');
    writeFileSync(file, '  abc-secret-value \n');
    chmodSync(file, 0o644);
    expect(resolveRelaySecret(undefined, file)).toMatchObject({ secret: 'abc-secret-value', looseFileMode: true });
    writeFileSync(file, '\n');
    expect(() => resolveRelaySecret(undefined, file)).toThrow(/auth\.secretFile: .* is empty/);
  });

  it('generates different secrets', () => {
    expect(generateSecret()).not.toBe(generateSecret());
  });
});
