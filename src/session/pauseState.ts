import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DapInterceptContext } from '../dap/dapInterceptor.js';
import type { InterceptorChain } from '../dap/interceptorChain.js';
import { relayOutputEvent } from './relayMessages.js';

/** Responses that mean "the debuggee runs again" (DAP sends no `continued` event for them). */
const resumingCommands = ['continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'goto', 'restartFrame'];

/** Who follows a session's pauses (the pause watchdog). */
export interface PauseWatcher {
  /** Each `stopped` event (the first of a pause and any later one). */
  stopped(): void;
  /** The debuggee runs again, or the program ended. */
  running(): void;
}

/**
 * Whether a session's debuggee is stopped, since when, and how the relay resumes it
 * itself (the pause watchdog, an administrator in the web console). `stopped` starts
 * a pause; a `continued` event for all threads, a successful resuming response,
 * `exited` or `terminated` ends it. {@link resume} sends the adapter `continue` (all
 * threads, with the relay's own `seq`; its response is swallowed, the client never
 * sent that request) and tells the client why with an `output` event, then with a
 * `continued` event once debugpy agreed; whoever asked learns debugpy's answer. It talks to both sides through the context
 * of the last `stopped` event.
 */
export class PauseState {
  private since: number | undefined;
  private thread = 0;
  private context: DapInterceptContext | undefined;
  /** The relay's own `continue` requests, and what to call with each answer (true: debugpy resumed). */
  private readonly ownRequests = new Map<number, (resumed: boolean) => void>();
  private readonly watchers: PauseWatcher[] = [];

  /** Registers the interceptors (events and responses toward the client). */
  attach(chain: InterceptorChain): this {
    chain.add('toClient', 'stopped', (message, context) => {
      if (message.type !== 'event') return undefined;
      const body = (message as DebugProtocol.StoppedEvent).body;
      this.context = context;
      if (typeof body?.threadId === 'number') this.thread = body.threadId;
      this.since ??= Date.now();
      for (const watcher of this.watchers) watcher.stopped();
      return undefined;
    });
    chain.add('toClient', 'continued', (message) => {
      if (message.type === 'event' && (message as DebugProtocol.ContinuedEvent).body?.allThreadsContinued !== false) this.runs();
      return undefined;
    });
    chain.add('toClient', ['exited', 'terminated'], (message) => {
      if (message.type === 'event') this.runs();
      return undefined;
    });
    chain.add('toClient', resumingCommands, (message, context) => {
      if (message.type !== 'response') return undefined;
      const response = message as DebugProtocol.Response;
      const own = this.ownRequests.get(response.request_seq);
      if (own) {
        this.ownRequests.delete(response.request_seq);
        if (response.success) this.announceContinued(context);
        own(response.success);
        return null; // the client never sent this request
      }
      if (response.success) this.runs();
      return undefined;
    });
    return this;
  }

  /** Follows the pauses from now on. */
  watch(watcher: PauseWatcher): void {
    this.watchers.push(watcher);
  }

  /** When the debuggee stopped (epoch ms), undefined while it runs. */
  get pausedSince(): number | undefined {
    return this.since;
  }

  /** The thread of the last `stopped` event. */
  get stoppedThread(): number {
    return this.thread;
  }

  /**
   * Resumes every thread of a stopped debuggee and tells the client `why`; calls
   * `onAnswer` with debugpy's answer (true: it resumed; false: it refused). Returns
   * false (nothing sent) when the debuggee is not stopped.
   */
  resume(why: string, onAnswer: (resumed: boolean) => void = () => undefined): boolean {
    const context = this.context;
    if (this.since === undefined || !context) return false;
    const seq = context.nextSeq('toAdapter');
    this.ownRequests.set(seq, onAnswer);
    context.send('toAdapter', { type: 'request', seq, command: 'continue', arguments: { threadId: this.thread, singleThread: false } });
    context.send('toClient', relayOutputEvent(context.nextSeq('toClient'), why));
    return true;
  }

  private runs(): void {
    this.since = undefined;
    for (const watcher of this.watchers) watcher.running();
  }

  private announceContinued(context: DapInterceptContext): void {
    this.runs();
    const continued: DebugProtocol.ContinuedEvent = {
      type: 'event',
      seq: context.nextSeq('toClient'),
      event: 'continued',
      body: { threadId: this.thread, allThreadsContinued: true },
    };
    context.send('toClient', continued);
  }
}
