import type { InterceptorChain } from '../dap/interceptorChain.js';
import { prefetchEventName, type PrefetchEventBody } from '../protocol/prefetch.js';

/** Options of {@link guardPrefetchEvents}. */
export interface PrefetchEventsOptions {
  /** Whether this session's client asked for answers sent ahead and the relay passed the limits on. */
  readonly negotiated: boolean;
  /** Called for each event forwarded, with its answers and the bytes of their bodies. */
  readonly onForwarded?: (answers: number, bytes: number) => void;
}

/**
 * The relay's side of prefetch on stopped (docs/protocol.md §6): a `dbgrelay.prefetch`
 * event reaches the client only on a session that negotiated it (a client that never
 * asked would be handed bytes it cannot use); the relay counts what is sent ahead.
 */
export function guardPrefetchEvents(chain: InterceptorChain, options: PrefetchEventsOptions): void {
  chain.add('toClient', prefetchEventName, (message) => {
    if (!options.negotiated || message.type !== 'event') return null;
    const body = (message as { body?: Partial<PrefetchEventBody> }).body;
    const answers = Array.isArray(body?.answers) ? body.answers : [];
    let bytes = 0;
    for (const answer of answers) if (typeof answer?.response === 'string') bytes += Buffer.byteLength(answer.response);
    options.onForwarded?.(answers.length, bytes);
    return undefined;
  });
}
