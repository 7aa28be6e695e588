import { afterEach, describe, expect, it, vi } from 'vitest';
import { SilenceWatch } from '../../../src/liveness/silenceWatch.js';

afterEach(() => vi.useRealTimers());

describe('SilenceWatch', () => {
  it('calls a peer silent past the timeout gone', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    const onSilent = vi.fn();
    const watch = new SilenceWatch('peer', { timeoutMs: 1_000, tickMs: 100, onSilent });
    vi.advanceTimersByTime(1_200);
    expect(onSilent).toHaveBeenCalledOnce();
    watch.stop();
  });

  it('does not count silence while the local side holds reading (backpressure), and restarts the clock on release', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    const onSilent = vi.fn();
    const watch = new SilenceWatch('peer', { timeoutMs: 1_000, tickMs: 100, onSilent });
    watch.hold(true);
    vi.advanceTimersByTime(5_000);
    expect(onSilent).not.toHaveBeenCalled();
    watch.hold(false);
    vi.advanceTimersByTime(900);
    expect(onSilent).not.toHaveBeenCalled();
    vi.advanceTimersByTime(300);
    expect(onSilent).toHaveBeenCalledOnce();
    watch.stop();
  });
});
