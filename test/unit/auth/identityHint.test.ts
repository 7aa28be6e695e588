import { describe, expect, it } from 'vitest';
import { certificateIdentity, identityHint } from '../../../src/auth/identityHint.js';

const token = (payload: unknown): string => `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2lnbmF0dXJlLWJ5dGVz`;

describe('identityHint', () => {
  it('names the sub of a bearer token, and nothing of the token itself', () => {
    const hint = identityHint({ kind: 'bearer', token: token({ sub: 'alice', scope: 'attach:*' }) });
    expect(hint).toBe('jwt:alice');
  });

  it('names nobody for a secret, a malformed token, or a sub that is not a short printable string', () => {
    expect(identityHint({ kind: 'secret', secret: 'alice' })).toBeUndefined();
    expect(identityHint(undefined)).toBeUndefined();
    expect(identityHint({ kind: 'bearer', token: 'not-a-jwt' })).toBeUndefined();
    expect(identityHint({ kind: 'bearer', token: 'a.%%%.c' })).toBeUndefined();
    expect(identityHint({ kind: 'bearer', token: token({ sub: 42 }) })).toBeUndefined();
    expect(identityHint({ kind: 'bearer', token: token({ sub: 'x'.repeat(129) }) })).toBeUndefined();
    expect(identityHint({ kind: 'bearer', token: token({ sub: 'evil\nline' }) })).toBeUndefined();
  });

  it('names a certificate by its CN', () => {
    expect(certificateIdentity('agent-web')).toBe('cert:agent-web');
    expect(certificateIdentity('\u0000')).toBeUndefined();
    expect(certificateIdentity(undefined)).toBeUndefined();
  });
});
