import { RelayError } from '../common/relayError.js';
import type { Transport } from '../transport/transport.js';
import { AdapterSettle } from './adapterSettle.js';
import type { EndpointStatus, OpeningConnection, TargetEndpoint } from './targetEndpoint.js';

/** Opens one connection to the adapter; rejects with a {@link RelayError}; gives up when `signal` aborts. */
export type AdapterDial = (signal: AbortSignal) => Promise<Transport>;

/** Options of a {@link DialedEndpoint}. */
export interface DialedEndpointOptions {
  /** Bound on one open, settling included (config `limits.openTimeoutMs`). */
  readonly openTimeoutMs: number;
  readonly adapterSettleMs?: number;
  /** Called by {@link DialedEndpoint.close} (e.g. to close a pooled SSH connection). */
  readonly onClose?: () => void;
}

/**
 * A {@link TargetEndpoint} the relay dials itself (configured `tcp://`, `ssh://`,
 * `tcps://` targets, SSH reverse forwards): bounds every open by `openTimeoutMs`,
 * keeps connects apart from session ends ({@link AdapterSettle}), remembers whether
 * the last attempt reached the adapter, and closes a connection that arrives after
 * the client left.
 */
export class DialedEndpoint implements TargetEndpoint {
  private readonly settle: AdapterSettle;
  private lastStatus: EndpointStatus = { reachable: undefined };
  private closed = false;

  constructor(
    private readonly dial: AdapterDial,
    private readonly options: DialedEndpointOptions,
  ) {
    this.settle = new AdapterSettle(options.adapterSettleMs);
  }

  open(): OpeningConnection {
    if (this.closed) throw new RelayError('AGENT_GONE', 'the target was removed');
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new RelayError('AGENT_OPEN_TIMEOUT', `the target's adapter was not reached within ${this.options.openTimeoutMs} ms`)),
      this.options.openTimeoutMs,
    );
    const transport = (async () => {
      try {
        await this.settle.quiet(controller.signal);
        if (controller.signal.aborted) throw controller.signal.reason as Error;
        const opened = await this.dial(controller.signal);
        if (controller.signal.aborted) {
          opened.destroy();
          throw controller.signal.reason as Error;
        }
        this.settle.track(opened);
        this.lastStatus = { reachable: true };
        return opened;
      } catch (error) {
        const relayError = toRelayError(error);
        if (relayError.code !== 'AGENT_GONE') this.lastStatus = { reachable: false, detail: relayError.message };
        throw relayError;
      } finally {
        clearTimeout(timer);
      }
    })();
    transport.catch(() => undefined); // the caller may cancel without awaiting
    return { transport, cancel: () => controller.abort(new RelayError('AGENT_GONE', 'session cancelled')) };
  }

  status(): EndpointStatus {
    return this.lastStatus;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.options.onClose?.();
  }
}

function toRelayError(error: unknown): RelayError {
  if (error instanceof RelayError) return error;
  return new RelayError('AGENT_OPEN_FAILED', `could not reach the target's adapter: ${(error as Error).message}`);
}
