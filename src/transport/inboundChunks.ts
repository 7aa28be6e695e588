/**
 * The one receiver of a transport's incoming bytes: chunks that arrive before the
 * receiver is registered (e.g. DAP bytes right behind a hello line) wait for it.
 */
export class InboundChunks {
  private listener: ((chunk: Buffer) => void) | undefined;
  private early: Buffer[] = [];

  /** Hands `chunk` to the receiver, or keeps it until there is one. */
  deliver(chunk: Buffer): void {
    if (this.listener) this.listener(chunk);
    else this.early.push(chunk);
  }

  /** Registers the receiver and hands it what arrived so far. */
  setListener(listener: (chunk: Buffer) => void): void {
    this.listener = listener;
    const early = this.early;
    this.early = [];
    for (const chunk of early) listener(chunk);
  }
}
