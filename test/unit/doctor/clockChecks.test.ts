import { describe, expect, it } from 'vitest';
import { checkToken } from '../../../src/doctor/clockChecks.js';
import { firstFailure } from '../../../src/doctor/doctorCheck.js';

const now = Date.parse('2026-12-05T12:00:00Z');
const seconds = (ms: number): number => Math.floor(ms / 1000);

function token(claims: Record<string, unknown>): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'EdDSA' })}.${part(claims)}.c2ln`;
}

describe("doctor's token check", () => {
  it('shows subject, scopes and expiry of a valid token, saying it is not verified', () => {
    const result = checkToken(token({ sub: 'alice', scope: 'attach:web-*', exp: seconds(now + 3_600_000) }), 'the token in DBGRELAY_TOKEN', 0, now);
    expect(result.status).toBe('ok');
    expect(result.summary).toContain('jwt:alice, scopes attach:web-*');
    expect(result.summary).toContain('not verified');
  });

  it("judges exp and nbf by the relay's clock (this host's plus the skew)", () => {
    const expiresSoon = token({ sub: 'alice', exp: seconds(now + 60_000) });
    expect(checkToken(expiresSoon, 'DBGRELAY_TOKEN', 0, now).status).toBe('ok');
    const behind = checkToken(expiresSoon, 'DBGRELAY_TOKEN', 120_000, now);
    expect(behind.status).toBe('fail');
    expect(behind.code).toBe('AUTH_FAILED');
    expect(behind.fix).toContain('new token');
    const notYet = checkToken(token({ sub: 'alice', nbf: seconds(now + 600_000), exp: seconds(now + 3_600_000) }), 'DBGRELAY_TOKEN', 0, now);
    expect(notYet.status).toBe('fail');
    expect(notYet.fix).toContain('clock');
  });

  it('fails on something that is not a JWT, or a token without exp', () => {
    expect(checkToken('not-a-jwt', '--token-file /t', 0, now)).toMatchObject({ status: 'fail', code: 'AUTH_FAILED' });
    expect(checkToken(token({ sub: 'alice' }), '--token-file /t', 0, now).summary).toContain('no exp');
    expect(firstFailure([checkToken('x', 's', 0, now)])?.check).toBe('token');
  });
});
