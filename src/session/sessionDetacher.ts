import type { DebugProtocol } from '@vscode/debugprotocol';
import type { AuditSink } from '../audit/auditEvent.js';
import type { AdapterLink } from '../dap/dapPipe.js';
import type { InterceptorChain } from '../dap/interceptorChain.js';
import { relaySeqBase } from './relayMessages.js';

/** Options of a {@link SessionDetacher}. */
export interface SessionDetacherOptions {
  /** Bound on waiting for the adapter's answer (config `sessions.detachTimeoutMs`). */
  readonly timeoutMs: number;
  /** Best-effort audit sink. */
  readonly audit: AuditSink;
}

/** What a detach did, for logs and the audit record. */
export type DetachOutcome = 'notAttached' | 'clientDisconnected' | 'detached' | 'refused' | 'timeout' | 'adapterClosed';

/**
 * Never leave a process paused when the client is lost: watches the
 * handshake of a session and, when its client side is gone (closed, reset, or the
 * relay shutting down) after a successful `attach` without a `disconnect` or
 * `terminate` of its own, sends the adapter `disconnect {terminateDebuggee: false}`
 * with the relay's own `seq` and waits (bounded) for the answer: debugpy then removes
 * the client's breakpoints and resumes every thread.
 *
 * Only a `disconnect` or `terminate` that reaches the adapter, and that the adapter
 * does not refuse, counts as the client's own goodbye: {@link attach} must come after
 * every handler that may refuse a request (policy, audit), so that it never sees a
 * refused one.
 *
 * A session whose `attach` had not been answered yet is left to the agent's bridge,
 * which completes the handshake first (a `disconnect` in the middle of it can wedge
 * debugpy's adapter; docs/architecture.md "How the agent protects debugpy").
 */
export class SessionDetacher {
  private attachSeq: number | undefined;
  private attached = false;
  private clientLeft = false;
  /** Seq of the client's last forwarded `disconnect`/`terminate`. */
  private leaveSeq: number | undefined;
  private seq = relaySeqBase - 1024; // below the session link's range, never shared with it

  constructor(private readonly options: SessionDetacherOptions) {}

  /** Registers the interceptors that follow the handshake; add them after every handler that may refuse a request. */
  attach(chain: InterceptorChain): this {
    chain.add('toAdapter', 'attach', (message) => {
      if (message.type === 'request') this.attachSeq = message.seq;
      return undefined;
    });
    chain.add('toAdapter', ['disconnect', 'terminate'], (message) => {
      if (message.type === 'request') {
        this.clientLeft = true;
        this.leaveSeq = message.seq;
      }
      return undefined;
    });
    chain.add('toClient', ['disconnect', 'terminate'], (message) => {
      const response = message as DebugProtocol.Response;
      // The adapter refused it: the session is still attached.
      if (message.type === 'response' && response.request_seq === this.leaveSeq && !response.success) this.clientLeft = false;
      return undefined;
    });
    chain.add('toClient', 'attach', (message) => {
      const response = message as DebugProtocol.Response;
      if (message.type === 'response' && response.request_seq === this.attachSeq && response.success) this.attached = true;
      return undefined;
    });
    return this;
  }

  /** True when the session is attached and its client has not said goodbye. */
  get needsDetach(): boolean {
    return this.attached && !this.clientLeft;
  }

  /** Detaches the debugger through `adapter` if needed; resolves with what happened. */
  detach(adapter: AdapterLink): Promise<DetachOutcome> {
    if (!this.attached) return Promise.resolve('notAttached');
    if (this.clientLeft) return Promise.resolve('clientDisconnected');
    const seq = this.seq++;
    return new Promise<DetachOutcome>((resolve) => {
      let done = false;
      const finish = (outcome: DetachOutcome): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        try {
          this.options.audit.record({ event: 'session.detached', outcome });
        } catch {
          // best effort
        }
        resolve(outcome);
      };
      const timer = setTimeout(() => finish('timeout'), this.options.timeoutMs);
      adapter.onMessage((message) => {
        const response = message as DebugProtocol.Response;
        if (message.type === 'response' && response.request_seq === seq) finish(response.success ? 'detached' : 'refused');
      });
      adapter.onClose(() => finish('adapterClosed'));
      adapter.send({ type: 'request', seq, command: 'disconnect', arguments: { terminateDebuggee: false, restart: false } });
    });
  }
}
