import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../../src/common/relayError.js';
import { TargetLeases } from '../../../src/session/targetLeases.js';

function refusal(check: () => void): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    expect(isRelayError(error, 'TARGET_BUSY')).toBe(true);
    return (error as Error).message;
  }
}

describe('TargetLeases.check (the attach check)', () => {
  it("refuses another principal than the holder's as acquire would, and takes nothing", async () => {
    const leases = new TargetLeases(true);
    expect(refusal(() => leases.check('web-1', 'bob'))).toBeUndefined();
    expect(leases.holderOf('web-1')).toBeUndefined();
    const held = await leases.acquire('web-1', 'alice');
    expect(refusal(() => leases.check('web-1', 'alice'))).toBeUndefined();
    expect(refusal(() => leases.check('web-1', 'bob'))).toMatch(/^target "web-1" is being debugged by alice since /);
    expect(refusal(() => leases.check('web-1', 'bob', { takeover: true }))).toContain('taking over needs the admin grant');
    expect(refusal(() => leases.check('web-1', 'bob', { takeover: true, admin: true }))).toBeUndefined();
    expect(leases.holderOf('web-1')?.principal).toBe('alice');
    held.release();
    expect(refusal(() => leases.check('web-1', 'bob'))).toBeUndefined();
  });

  it('refuses nobody without sessions.exclusive', async () => {
    const leases = new TargetLeases(false);
    await leases.acquire('web-1', 'alice');
    expect(refusal(() => leases.check('web-1', 'bob'))).toBeUndefined();
  });
});
