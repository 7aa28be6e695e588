import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DapInterceptContext } from '../dap/dapInterceptor.js';
import type { InterceptorChain } from '../dap/interceptorChain.js';
import { relayOutputEvent } from './relayMessages.js';

/** Responses that mean "the debuggee runs again" (DAP sends no `continued` event for them). */
const resumingCommands = ['continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'goto', 'restartFrame'];

/**
 * Whether a session's debuggee is stopped, since when, and a way to resume it from
 * outside the DAP client (an administrator in the web console). It watches the same
 * events as the pause watchdog: `stopped` starts a pause; a `continued` event for all
 * threads, a successful resuming response, `exited` or `terminated` ends it.
 * {@link resume} sends the adapter `continue` (all threads, with the relay's own `seq`;
 * its response is swallowed) and tells the client why, with an `output` and a
 * `continued` event.
 */
export class PauseState {
  private since: number | undefined;
  private thread = 0;
  private context: DapInterceptContext | undefined;
  private readonly ownRequests = new Set<number>();

  /** Registers the interceptors (events and responses toward the client). */
  attach(chain: InterceptorChain): this {
    chain.add('toClient', 'stopped', (message, context) => {
      if (message.type !== 'event') return undefined;
      const body = (message as DebugProtocol.StoppedEvent).body;
      this.context = context;
      if (typeof body?.threadId === 'number') this.thread = body.threadId;
      this.since ??= Date.now();
      return undefined;
    });
    chain.add('toClient', 'continued', (message) => {
      if (message.type === 'event' && (message as DebugProtocol.ContinuedEvent).body?.allThreadsContinued !== false) this.since = undefined;
      return undefined;
    });
    chain.add('toClient', ['exited', 'terminated'], (message) => {
      if (message.type === 'event') this.since = undefined;
      return undefined;
    });
    chain.add('toClient', resumingCommands, (message, context) => {
      if (message.type !== 'response') return undefined;
      const response = message as DebugProtocol.Response;
      if (this.ownRequests.delete(response.request_seq)) {
        if (response.success) this.announceContinued(context);
        return null; // the client never sent this request
      }
      if (response.success) this.since = undefined;
      return undefined;
    });
    return this;
  }

  /** When the debuggee stopped (epoch ms), undefined while it runs. */
  get pausedSince(): number | undefined {
    return this.since;
  }

  /**
   * Resumes every thread of a stopped debuggee and tells the client `why`. Returns
   * false (nothing sent) when the debuggee is not stopped.
   */
  resume(why: string): boolean {
    const context = this.context;
    if (this.since === undefined || !context) return false;
    const seq = context.nextSeq('toAdapter');
    this.ownRequests.add(seq);
    context.send('toAdapter', { type: 'request', seq, command: 'continue', arguments: { threadId: this.thread, singleThread: false } });
    context.send('toClient', relayOutputEvent(context.nextSeq('toClient'), why));
    return true;
  }

  private announceContinued(context: DapInterceptContext): void {
    this.since = undefined;
    const continued: DebugProtocol.ContinuedEvent = {
      type: 'event',
      seq: context.nextSeq('toClient'),
      event: 'continued',
      body: { threadId: this.thread, allThreadsContinued: true },
    };
    context.send('toClient', continued);
  }
}
