import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveClientConnection } from '../../../src/cli/clientOptions.js';
import { resolveClientToken } from '../../../src/cli/clientToken.js';
import { keyDir } from '../../support/keys/jwtFixtures.js';

const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ DBGRELAY_DATA_DIR: keyDir(), ...extra });

describe('client bearer token', () => {
  it('reads --token-file again for every session, so a refreshed file takes effect', () => {
    const file = join(keyDir(), 'alice.jwt');
    writeFileSync(file, 'aaa.bbb.ccc\n');
    const token = resolveClientToken(file, {});
    expect(token?.()).toBe('aaa.bbb.ccc');
    writeFileSync(file, 'ddd.eee.fff\n');
    expect(token?.()).toBe('ddd.eee.fff');
  });

  it('takes DBGRELAY_TOKEN when there is no --token-file, and neither means no token', () => {
    expect(resolveClientToken(undefined, { DBGRELAY_TOKEN: 'x.y.z' })?.()).toBe('x.y.z');
    expect(resolveClientToken(undefined, {})).toBeUndefined();
    const file = join(keyDir(), 't');
    writeFileSync(file, 'from.file.wins');
    expect(resolveClientToken(file, { DBGRELAY_TOKEN: 'x.y.z' })?.()).toBe('from.file.wins');
  });

  it('refuses an unreadable, empty or multi-word token file without quoting it', () => {
    const dir = keyDir();
    expect(() => resolveClientToken(join(dir, 'missing'), {})).toThrow(/--token-file: cannot read .*ENOENT/);
    writeFileSync(join(dir, 'empty'), '\n');
    expect(() => resolveClientToken(join(dir, 'empty'), {})).toThrow(/is empty/);
    writeFileSync(join(dir, 'two'), 'first.token.x\nsecond.token.y\n');
    expect(() => resolveClientToken(join(dir, 'two'), {})).toThrow(/one token/);
    expect(() => resolveClientToken(join(dir, 'two'), {})).not.toThrow(/first\.token/);
  });

  it('replaces the secret in resolveClientConnection; a token with an explicit secret is refused', () => {
    const file = join(keyDir(), 'alice.jwt');
    writeFileSync(file, 'aaa.bbb.ccc');
    const connection = resolveClientConnection({ tokenFile: file }, env({ DBGRELAY_SECRET: 'ignored-secret' }));
    expect(connection.token?.()).toBe('aaa.bbb.ccc');
    expect(connection.secret).toBeUndefined();
    expect(resolveClientConnection({}, env({ DBGRELAY_TOKEN: 'q.r.s' })).token?.()).toBe('q.r.s');
    const secretFile = join(keyDir(), 'secret');
    writeFileSync(secretFile, 'some-secret');
    expect(() => resolveClientConnection({ tokenFile: file, secretFile }, env())).toThrow(/either a token .* or a secret/);
    expect(() => resolveClientConnection({ tokenFile: file, relay: 'wss://sec@127.0.0.1:7443' }, env())).toThrow(/either a token/);
  });
});
