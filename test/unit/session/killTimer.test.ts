import { describe, expect, it } from 'vitest';
import { killTimerNotice } from '../../../src/session/relayMessages.js';
import { effectiveMaxPauseMs, killTimerMarginMs } from '../../../src/session/sessionGuards.js';

describe("a server's kill timer and the pause bound", () => {
  it('resumes before the kill timer, with a margin of 2 s or a tenth', () => {
    expect(killTimerMarginMs(6_000)).toBe(2_000);
    expect(killTimerMarginMs(300_000)).toBe(30_000);
    expect(effectiveMaxPauseMs(0, 30_000)).toBe(27_000); // the watchdog off: the timer alone bounds
    expect(effectiveMaxPauseMs(10_000, 30_000)).toBe(10_000); // a shorter configured bound wins
    expect(effectiveMaxPauseMs(60_000, 30_000)).toBe(27_000);
    expect(effectiveMaxPauseMs(60_000, undefined)).toBe(60_000);
    expect(effectiveMaxPauseMs(0, 1_500)).toBe(1_000); // never below a second
  });

  it('tells the client at attach what kills the worker and how to debug longer', () => {
    const text = killTimerNotice({ seconds: 30, source: 'gunicorn --timeout' }, 27_000);
    expect(text).toContain('does not answer for 30 s (gunicorn --timeout)');
    expect(text).toContain('resumes it after 27 s paused');
    expect(text).toContain('raise gunicorn --timeout');
  });
});
