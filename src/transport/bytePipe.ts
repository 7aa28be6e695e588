import type { Transport } from './transport.js';

/**
 * Copies bytes both ways between two transports, unparsed, with backpressure: a side
 * whose peer's buffer is full is paused until it drains. When either side closes, the
 * other is closed too (what was queued is still flushed). Resolves when both are closed.
 */
export function pipeBytes(a: Transport, b: Transport): Promise<void> {
  const oneWay = (from: Transport, to: Transport): void => {
    from.onData((chunk) => {
      if (!to.send(chunk)) from.pause();
    });
    to.onDrain(() => from.resume());
  };
  oneWay(a, b);
  oneWay(b, a);
  const closed = (side: Transport, other: Transport): Promise<void> =>
    new Promise((resolve) => {
      if (side.closed) {
        other.close();
        resolve();
        return;
      }
      side.onClose(() => {
        other.close();
        resolve();
      });
    });
  const both = Promise.all([closed(a, b), closed(b, a)]).then(() => undefined);
  a.resume();
  b.resume();
  return both;
}
