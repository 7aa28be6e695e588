import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../../src/common/relayError.js';
import { requireRole } from '../../../src/auth/grants.js';
import { SecretAuthenticator, secretsEqual } from '../../../src/auth/secretAuthenticator.js';

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return isRelayError(error) ? error.code : 'not a RelayError';
  }
  return undefined;
}

describe('SecretAuthenticator', () => {
  const authenticator = new SecretAuthenticator('correct horse battery staple');

  it('accepts the secret and grants every role', async () => {
    const principal = await authenticator.authenticate({ kind: 'secret', secret: 'correct horse battery staple' });
    expect(principal.id).toBe('relay-secret');
    expect(principal.grants).toEqual({ register: ['*'], attach: ['*'], admin: true });
    expect(() => requireRole(principal, 'agent')).not.toThrow();
  });

  it('refuses a missing credential with AUTH_REQUIRED and a wrong one with AUTH_FAILED', async () => {
    expect(await codeOf(authenticator.authenticate(undefined))).toBe('AUTH_REQUIRED');
    expect(await codeOf(authenticator.authenticate({ kind: 'secret', secret: 'correct horse battery stapl' }))).toBe('AUTH_FAILED');
    expect(await codeOf(authenticator.authenticate({ kind: 'secret', secret: 'correct horse battery staple ' }))).toBe('AUTH_FAILED');
    expect(await codeOf(authenticator.authenticate({ kind: 'bearer', token: 'a.b.c' }))).toBe('AUTH_FAILED');
  });

  it('never puts the presented or expected secret in the error message', async () => {
    try {
      await authenticator.authenticate({ kind: 'secret', secret: 'guess-123' });
    } catch (error) {
      expect((error as Error).message).not.toMatch(/guess-123|correct horse/);
    }
    expect.assertions(1);
  });

  it('compares digests of any length', () => {
    const expected = createHash('sha256').update('s').digest();
    expect(secretsEqual('s', expected)).toBe(true);
    expect(secretsEqual('', expected)).toBe(false);
    expect(secretsEqual('s'.repeat(10_000), expected)).toBe(false);
  });

  it('refuses an empty configured secret', () => {
    expect(() => new SecretAuthenticator('')).toThrow(/auth\.secret/);
  });
});
