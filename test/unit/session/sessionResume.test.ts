import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { settle, trackedSessions } from '../../support/harness/guardedHarness.js';

const { open, closeAll } = trackedSessions();
afterEach(closeAll);

const stopped = { type: 'event', seq: 71, event: 'stopped', body: { reason: 'breakpoint', threadId: 3, allThreadsStopped: true } };

describe('a session resumed from the web console (GuardedSession.resume)', () => {
  it('knows since when the debuggee is stopped, and that it runs again after the client continues', async () => {
    const h = await open();
    expect(h.session.status).toEqual({ policy: 'full', openedAt: expect.any(Number) });
    const before = Date.now();
    h.adapter.send(stopped);
    await settle();
    expect(h.session.status.pausedSince).toBeGreaterThanOrEqual(before);
    await h.request('continue', { threadId: 3 });
    expect(h.session.status.pausedSince).toBeUndefined();
  });

  it('sends debugpy continue for all threads, tells the client, hides the answer and records who resumed it', async () => {
    const h = await open({ pauseWatchdog: { maxPauseMs: 150, targets: {} } });
    expect(await h.session.resume('jwt:ops')).toBe('notStopped'); // running: nothing to resume
    expect(h.adapter.requests('continue')).toHaveLength(0);
    h.adapter.send(stopped);
    await settle();
    expect(await h.session.resume('jwt:ops')).toBe('resumed'); // settles on debugpy's answer
    await vi.waitFor(() => expect(h.client.events('continued')).toHaveLength(1));
    const resumes = h.adapter.requests('continue');
    expect(resumes.map((r) => r.arguments)).toEqual([{ threadId: 3, singleThread: false }]);
    expect(h.client.responses()).toHaveLength(0); // the relay's own request: its answer is not the client's
    expect((h.client.events('output')[0] as DebugProtocol.OutputEvent).body.output).toContain('jwt:ops resumed the program from the web console');
    expect(h.client.events('continued')[0]!.body).toEqual({ threadId: 3, allThreadsContinued: true });
    expect(h.session.status.pausedSince).toBeUndefined();
    // the pause watchdog was disarmed: no second continue when its bound passes
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(h.adapter.requests('continue')).toHaveLength(1);
    expect(h.audit.named('watchdog.resumed')).toHaveLength(0);
    expect(h.audit.named('session.resumed')).toEqual([expect.objectContaining({ principal: 'jwt:ops', target: 'web-1', pausedMs: expect.any(Number) })]);
  });

  it('settles refused when debugpy refuses the continue: no continued event, no session.resumed, still paused', async () => {
    const h = await open({ autoAnswer: false });
    h.adapter.send(stopped);
    await settle();
    const outcome = h.session.resume('jwt:ops');
    await vi.waitFor(() => expect(h.adapter.requests('continue')).toHaveLength(1));
    expect(await h.session.resume('jwt:ops')).toBe('busy'); // one at a time: nothing sent twice
    const [request] = h.adapter.requests('continue');
    h.adapter.send({ type: 'response', seq: 90, request_seq: request!.seq, command: 'continue', success: false, message: 'no such thread' });
    expect(await outcome).toBe('refused');
    await settle();
    expect(h.adapter.requests('continue')).toHaveLength(1);
    expect(h.client.events('continued')).toHaveLength(0);
    expect(h.client.responses()).toHaveLength(0);
    expect(h.audit.named('session.resumed')).toHaveLength(0);
    expect(h.session.status.pausedSince).toBeDefined();
  });

  it('settles refused when debugpy does not answer within sessions.detachTimeoutMs', async () => {
    const h = await open({ autoAnswer: false, sessions: { exclusive: true, detachTimeoutMs: 50, takeoverTimeoutMs: 1_000 } });
    h.adapter.send(stopped);
    await settle();
    expect(await h.session.resume('jwt:ops')).toBe('refused');
    expect(h.audit.named('session.resumed')).toHaveLength(0);
  });
});
