/**
 * The one receiver of a transport's incoming bytes: chunks that arrive before the
 * receiver is registered (e.g. DAP bytes right behind a hello line) wait for it.
 *
 * The receiver runs inside the socket's event handler: an exception escaping it would
 * end the whole process, every session of every target with it. So a receiver that
 * throws is reported to `onReceiverError` (the transport destroys its own connection
 * and logs), and nothing more is delivered.
 */
export class InboundChunks {
  private listener: ((chunk: Buffer) => void) | undefined;
  private early: Buffer[] = [];
  private failed = false;

  constructor(private readonly onReceiverError: (error: unknown) => void = () => undefined) {}

  /** Hands `chunk` to the receiver, or keeps it until there is one. */
  deliver(chunk: Buffer): void {
    if (this.failed) return;
    if (this.listener) this.call(this.listener, chunk);
    else this.early.push(chunk);
  }

  /** Registers the receiver and hands it what arrived so far. */
  setListener(listener: (chunk: Buffer) => void): void {
    this.listener = listener;
    const early = this.early;
    this.early = [];
    for (const chunk of early) if (!this.failed) this.call(listener, chunk);
  }

  private call(listener: (chunk: Buffer) => void, chunk: Buffer): void {
    try {
      listener(chunk);
    } catch (error) {
      this.failed = true;
      this.onReceiverError(error);
    }
  }
}
