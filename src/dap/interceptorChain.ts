import type { DapDirection, DapInterceptor, DapInterceptors, DapVerdict } from './dapPipe.js';
import type { DapMessage } from './dapMessage.js';

/**
 * Collects interceptors from several concerns (policy, audit, watchdog, ...) and
 * composes those registered for the same direction and name into one, in the order
 * they were added: each handler sees the message as the previous one left it; a
 * replacement is passed on, `null` (drop) stops the chain. The composed verdict is
 * `undefined` (forward the original bytes) unless some handler replaced or dropped it.
 */
export class InterceptorChain {
  private readonly handlers: Record<DapDirection, Map<string, DapInterceptor[]>> = {
    toAdapter: new Map(),
    toClient: new Map(),
  };

  /** Registers `interceptor` for each of `names` travelling in `direction`. */
  add(direction: DapDirection, names: string | readonly string[], interceptor: DapInterceptor): this {
    for (const name of typeof names === 'string' ? [names] : names) {
      const list = this.handlers[direction].get(name);
      if (list) list.push(interceptor);
      else this.handlers[direction].set(name, [interceptor]);
    }
    return this;
  }

  /** The composed interceptors, for a {@link DapPipe}. */
  build(): DapInterceptors {
    const compose = (map: Map<string, DapInterceptor[]>): ReadonlyMap<string, DapInterceptor> =>
      new Map([...map].map(([name, list]) => [name, composeInterceptors(list)] as const));
    return { toAdapter: compose(this.handlers.toAdapter), toClient: compose(this.handlers.toClient) };
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
