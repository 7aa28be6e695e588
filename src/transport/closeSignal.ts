/**
 * Fires registered close listeners exactly once; shared by the transports so each
 * reports one close however many underlying events (end, close, error) occur.
 */
export class CloseSignal<E extends Error = Error> {
  private listeners: Array<(error?: E) => void> = [];
  private firedWith: { error?: E } | undefined;

  get fired(): boolean {
    return this.firedWith !== undefined;
  }

  add(listener: (error?: E) => void): void {
    if (this.firedWith) queueMicrotask(() => listener(this.firedWith?.error));
    else this.listeners.push(listener);
  }

  fire(error?: E): void {
    if (this.firedWith) return;
    this.firedWith = error ? { error } : {};
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener(error);
  }
}
