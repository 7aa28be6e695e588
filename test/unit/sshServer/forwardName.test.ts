import { describe, expect, it } from 'vitest';
import { checkForwardName } from '../../../src/sshServer/forwardName.js';

describe('checkForwardName', () => {
  it('lets a key register exactly the names its patterns match, with grant glob semantics', () => {
    const patterns = ['web-1', 'api-*', 'job-?'];
    expect(checkForwardName('web-1', patterns)).toEqual({ ok: true, name: 'web-1' });
    expect(checkForwardName('api-eu.1', patterns)).toEqual({ ok: true, name: 'api-eu.1' });
    expect(checkForwardName('job-7', patterns)).toEqual({ ok: true, name: 'job-7' });
    expect(checkForwardName('job-17', patterns)).toMatchObject({ ok: false, reason: 'this key may register only web-1, api-*, job-?' });
    expect(checkForwardName('web-10', patterns).ok).toBe(false);
    expect(checkForwardName('WEB-1', patterns).ok).toBe(false);
    expect(checkForwardName('web-1', ['*'])).toEqual({ ok: true, name: 'web-1' });
    // "." in a pattern is literal
    expect(checkForwardName('webx1', ['web.1']).ok).toBe(false);
  });

  it('refuses bind addresses that name no target, even for a key allowed "*"', () => {
    for (const bindAddr of ['', '*', 'localhost', '127.0.0.1', '0.0.0.0', '::1']) {
      expect(checkForwardName(bindAddr, ['*'])).toMatchObject({ ok: false, reason: expect.stringMatching(/bind address names the target/) });
    }
    for (const bindAddr of ['-web', 'web/1', 'a'.repeat(64), 'web\n1']) {
      expect(checkForwardName(bindAddr, ['*'])).toMatchObject({ ok: false, reason: expect.stringMatching(/not a target name/) });
    }
  });
});
