import { everyMessageToAdapter, type DapDirection, type DapInterceptor, type DapInterceptors, type DapVerdict } from './dapInterceptor.js';
import type { DapMessage } from './dapMessage.js';

/**
 * Collects interceptors from several concerns (policy, audit, watchdog, ...) and
 * composes those registered for the same direction and name into one, in the order
 * they were added: each handler sees the message as the previous one left it; a
 * replacement is passed on, `null` (drop) stops the chain. The composed verdict is
 * `undefined` (forward the original bytes) unless some handler replaced or dropped it.
 * Handlers for every request toward the adapter ({@link addForEveryRequest}) run
 * first, before the handlers of the request's own name.
 */
export class InterceptorChain {
  private readonly handlers: Record<DapDirection, Map<string, DapInterceptor[]>> = {
    toAdapter: new Map(),
    toClient: new Map(),
  };
  private readonly everyToAdapter: DapInterceptor[] = [];

  /** Registers `interceptor` for each of `names` travelling in `direction`. */
  add(direction: DapDirection, names: string | readonly string[], interceptor: DapInterceptor): this {
    for (const name of typeof names === 'string' ? [names] : names) {
      const list = this.handlers[direction].get(name);
      if (list) list.push(interceptor);
      else this.handlers[direction].set(name, [interceptor]);
    }
    return this;
  }

  /**
   * Registers `interceptor` for every message toward the adapter, ahead of the
   * handlers registered by name (e.g. validation that each guard may rely on).
   */
  addForEveryRequest(interceptor: DapInterceptor): this {
    this.everyToAdapter.push(interceptor);
    return this;
  }

  /** The composed interceptors, for a {@link DapPipe}. */
  build(): DapInterceptors {
    const first = this.everyToAdapter;
    const compose = (map: Map<string, DapInterceptor[]>, before: readonly DapInterceptor[]): Map<string, DapInterceptor> =>
      new Map([...map].map(([name, list]) => [name, composeInterceptors([...before, ...list])] as const));
    const toAdapter = compose(this.handlers.toAdapter, first);
    if (first.length > 0) toAdapter.set(everyMessageToAdapter, composeInterceptors(first));
    return { toAdapter, toClient: compose(this.handlers.toClient, []) };
  }
}

function composeInterceptors(list: readonly DapInterceptor[]): DapInterceptor {
  if (list.length === 1) return list[0]!;
  return (message, context) => {
    let current: DapMessage = message;
    let replaced = false;
    for (const interceptor of list) {
      const verdict: DapVerdict = interceptor(current, context);
      if (verdict === null) return null;
      if (verdict !== undefined) {
        current = verdict;
        replaced = true;
      }
    }
    return replaced ? current : undefined;
  };
}
