import type { DebugProtocol } from '@vscode/debugprotocol';
import type { AuditSink } from '../audit/auditEvent.js';
import type { DapInterceptContext } from '../dap/dapInterceptor.js';
import type { InterceptorChain } from '../dap/interceptorChain.js';
import { relayOutputEvent } from './relayMessages.js';

/** Options of a {@link PauseWatchdog}. */
export interface PauseWatchdogOptions {
  /** Longest the debuggee may stay stopped (config `pauseWatchdog.maxPauseMs` or a target rule); > 0. */
  readonly maxPauseMs: number;
  /** Best-effort audit sink (a resume happens whether or not it is recorded). */
  readonly audit: AuditSink;
  /** Called after each resume the watchdog sent (tests, metrics). */
  readonly onResume?: (threadId: number) => void;
}

/** Responses that mean "the debuggee runs again" (DAP sends no `continued` event for them). */
const resumingCommands = ['continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'goto', 'restartFrame'];

/**
 * Never leave a process paused for long: after a `stopped` event that
 * is not followed by a resume (a successful `continue`/step response, a `continued`
 * event, or the end of the program) within `maxPauseMs`, the watchdog sends the
 * adapter `continue` (all threads, with the relay's own `seq`; its response is
 * swallowed), tells the client with an `output` event and a `continued` event, and
 * records `watchdog.resumed`. One watchdog per session, since each session (main or
 * subprocess) debugs its own process. It talks to both sides through the context of
 * the `stopped` event that armed it.
 */
export class PauseWatchdog {
  private timer: NodeJS.Timeout | undefined;
  private stoppedAt = 0;
  private stoppedThread = 0;
  private readonly ownRequests = new Set<number>();
  private disposed = false;
  /** The context of the pipe the last `stopped` event came through. */
  private context: DapInterceptContext | undefined;

  constructor(private readonly options: PauseWatchdogOptions) {}

  /** True while the debuggee is stopped and the watchdog's timer runs. */
  get armed(): boolean {
    return this.timer !== undefined;
  }

  /** Registers the watchdog's interceptors (events and responses toward the client). */
  attach(chain: InterceptorChain): this {
    chain.add('toClient', 'stopped', (message, context) => {
      if (message.type === 'event') this.onStopped((message as DebugProtocol.StoppedEvent).body, context);
      return undefined;
    });
    chain.add('toClient', 'continued', (message) => {
      if (message.type === 'event' && (message as DebugProtocol.ContinuedEvent).body?.allThreadsContinued !== false) this.disarm();
      return undefined;
    });
    chain.add('toClient', ['exited', 'terminated'], (message) => {
      if (message.type === 'event') this.disarm();
      return undefined;
    });
    chain.add('toClient', resumingCommands, (message, context) => {
      if (message.type !== 'response') return undefined;
      const response = message as DebugProtocol.Response;
      if (this.ownRequests.delete(response.request_seq)) {
        this.onOwnResponse(response, context);
        return null; // the client never sent this request
      }
      if (response.success) this.disarm();
      return undefined;
    });
    return this;
  }

  /** Stops the timer for good (the session ended). */
  dispose(): void {
    this.disposed = true;
    this.disarm();
  }

  private onStopped(body: DebugProtocol.StoppedEvent['body'] | undefined, context: DapInterceptContext): void {
    if (this.disposed) return;
    this.context = context;
    if (typeof body?.threadId === 'number') this.stoppedThread = body.threadId;
    if (this.timer) return; // the pause already counts from the first stop
    this.stoppedAt = Date.now();
    this.timer = setTimeout(() => this.resume(), this.options.maxPauseMs);
    this.timer.unref?.();
  }

  /** Stops the timer of the current pause (the debuggee was resumed by other means, e.g. from the web console). */
  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private resume(): void {
    this.timer = undefined;
    const context = this.context;
    if (this.disposed || !context) return;
    const { maxPauseMs } = this.options;
    const pausedMs = Date.now() - this.stoppedAt;
    try {
      this.options.audit.record({ event: 'watchdog.resumed', threadId: this.stoppedThread, pausedMs, maxPauseMs });
    } catch {
      // Resuming matters more than recording it; the session log has it too.
    }
    const seq = context.nextSeq('toAdapter');
    this.ownRequests.add(seq);
    context.send('toAdapter', { type: 'request', seq, command: 'continue', arguments: { threadId: this.stoppedThread, singleThread: false } });
    context.send(
      'toClient',
      relayOutputEvent(
        context.nextSeq('toClient'),
        `the debuggee was paused for ${Math.round(pausedMs / 1000)} s, longer than this target allows (${maxPauseMs} ms, pauseWatchdog); the relay resumed it`,
      ),
    );
  }

  private onOwnResponse(response: DebugProtocol.Response, context: DapInterceptContext): void {
    if (!response.success) return;
    const continued: DebugProtocol.ContinuedEvent = {
      type: 'event',
      seq: context.nextSeq('toClient'),
      event: 'continued',
      body: { threadId: this.stoppedThread, allThreadsContinued: true },
    };
    context.send('toClient', continued);
    this.options.onResume?.(this.stoppedThread);
  }
}
