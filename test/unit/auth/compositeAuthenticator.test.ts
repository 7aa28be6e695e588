import { describe, expect, it } from 'vitest';
import { CompositeAuthenticator } from '../../../src/auth/compositeAuthenticator.js';
import { SecretAuthenticator } from '../../../src/auth/secretAuthenticator.js';
import { authenticatorFor, generateTestKey, refusal, signToken } from '../../support/keys/jwtFixtures.js';

describe('CompositeAuthenticator', () => {
  const secret = new SecretAuthenticator('relay-secret-0123456789abcdef');
  const key = generateTestKey('ES256');
  const both = new CompositeAuthenticator({ secret, bearer: authenticatorFor(key) });
  const secretOnly = new CompositeAuthenticator({ secret });

  it('sends bearer tokens to the JWT authenticator and secrets to the secret authenticator', async () => {
    expect((await both.authenticate({ kind: 'bearer', token: await signToken(key) })).id).toBe('jwt:alice');
    expect((await both.authenticate({ kind: 'secret', secret: 'relay-secret-0123456789abcdef' })).id).toBe('relay-secret');
    expect(await refusal(both.authenticate({ kind: 'secret', secret: 'wrong' }))).toBe('credential refused');
  });

  it('refuses bearer tokens when JWTs are disabled, and a missing credential with AUTH_REQUIRED', async () => {
    expect(await refusal(secretOnly.authenticate({ kind: 'bearer', token: await signToken(key) }))).toMatch(/bearer tokens are not enabled/);
    await refusal(both.authenticate(undefined), 'AUTH_REQUIRED');
  });
});
