/**
 * A userspace TCP delay proxy: emulates WAN latency on loopback where the kernel has
 * no netem.
 *
 * What is modelled: a fixed one-way propagation delay per direction with unlimited
 * bandwidth. Every chunk read from one side is written to the other side no earlier
 * than its arrival time plus that direction's delay (deadlines from
 * `performance.now()`, never early), in FIFO order, never coalesced or reordered; a FIN
 * (half-close) takes the same delay as the bytes before it.
 *
 * The connection itself: the client's `connect()` completes at once (the proxy accepts
 * locally), but the TCP handshake's round trip is charged as on a real link: the proxy
 * dials the target one RTT plus one upstream delay after the client connected (when a
 * real server's `accept()` returns: SYN, SYN-ACK, then the ACK with the first data), and
 * bytes the client sends meanwhile wait behind that dial. So data sent right after
 * connect reaches the target after RTT + upstream delay, and a server that speaks
 * first (an SSH banner) is heard two RTTs after the connect, as over a real network. A
 * failed dial or a reset is not delayed: it tears down both sides at once. Not modelled: loss, jitter, bandwidth, serialization delay and
 * backpressure (write() return values are ignored; a slow reader grows memory).
 */
import { createServer, connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** Where the proxy forwards to and the one-way delay of each direction. */
export interface DelayProxyOptions {
  targetHost: string;
  targetPort: number;
  /** One-way delay (ms) of bytes client → target. */
  upstreamDelayMs: number;
  /** One-way delay (ms) of bytes target → client. */
  downstreamDelayMs: number;
  /** Address to listen on; default `'127.0.0.1'`. */
  listenHost?: string;
}

/** A running delay proxy. */
export interface DelayProxy {
  /** The ephemeral port the proxy listens on. */
  port: number;
  /** Destroys every live connection and closes the listener. */
  close(): Promise<void>;
  /** Sets the delays of chunks (and FINs) that arrive from now on; queued ones keep theirs. */
  setDelays(upstreamMs: number, downstreamMs: number): void;
}

/** One scheduled action of a direction: dial the target, write a chunk, or end (FIN). */
type Item = { deadline: number; action: 'dial' } | { deadline: number; action: 'write'; chunk: Buffer } | { deadline: number; action: 'end' };

/** One direction: a FIFO of items and one timer for its head. */
interface Lane {
  items: Item[];
  timer: NodeJS.Timeout | null;
  sink: Socket | null;
}

function checkDelay(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`delay must be a finite number ≥ 0, got ${ms}`);
  return ms;
}

/** Starts a delay proxy listening on an ephemeral port of `listenHost`. */
export async function startDelayProxy(options: DelayProxyOptions): Promise<DelayProxy> {
  let upDelay = checkDelay(options.upstreamDelayMs);
  let downDelay = checkDelay(options.downstreamDelayMs);
  const teardowns = new Set<() => void>();

  const server = createServer({ allowHalfOpen: true }, (client) => {
    client.setNoDelay(true);
    let target: Socket | null = null;
    let done = false;
    const up: Lane = { items: [], timer: null, sink: null };
    const down: Lane = { items: [], timer: null, sink: client };

    const teardown = (): void => {
      if (done) return;
      done = true;
      for (const lane of [up, down]) {
        if (lane.timer) clearTimeout(lane.timer);
        lane.timer = null;
        lane.items.length = 0;
      }
      client.destroy();
      target?.destroy();
      teardowns.delete(teardown);
    };
    teardowns.add(teardown);

    /** Writes every item whose deadline has passed, then arms one timer for the rest. */
    const flush = (lane: Lane): void => {
      lane.timer = null;
      const now = performance.now();
      while (!done && lane.items.length > 0 && lane.items[0]!.deadline <= now) {
        const item = lane.items.shift()!;
        if (item.action === 'dial') lane.sink = dial();
        else if (item.action === 'write') lane.sink!.write(item.chunk);
        else lane.sink!.end();
      }
      const head = lane.items[0];
      // Node timers may fire a little early relative to performance.now() (the loop's
      // cached clock): flush() re-checks the deadline and re-arms for what remains.
      if (!done && head) lane.timer = setTimeout(() => flush(lane), Math.max(1, Math.ceil(head.deadline - now)));
    };
    const enqueue = (lane: Lane, item: Item): void => {
      lane.items.push(item);
      if (!lane.timer) flush(lane);
    };

    const dial = (): Socket => {
      const socket = connect({ host: options.targetHost, port: options.targetPort, allowHalfOpen: true });
      target = socket;
      socket.setNoDelay(true);
      socket.on('data', (chunk: Buffer) => enqueue(down, { deadline: performance.now() + downDelay, action: 'write', chunk }));
      socket.on('end', () => enqueue(down, { deadline: performance.now() + downDelay, action: 'end' }));
      watch(socket);
      return socket; // writes before 'connect' are buffered by the socket itself
    };
    /** Errors and abrupt closes tear down both sides; a clean close (both halves ended) waits for the other side. */
    const watch = (socket: Socket): void => {
      socket.on('error', teardown);
      socket.on('close', () => {
        const clean = socket.readableEnded && socket.writableFinished;
        const other = socket === client ? target : client;
        if (!clean || !other || other.destroyed) teardown();
      });
    };

    enqueue(up, { deadline: performance.now() + 2 * upDelay + downDelay, action: 'dial' }); // SYN, SYN-ACK, then ACK: the handshake's RTT, then the upstream delay
    watch(client);
    client.on('data', (chunk: Buffer) => enqueue(up, { deadline: performance.now() + upDelay, action: 'write', chunk }));
    client.on('end', () => enqueue(up, { deadline: performance.now() + upDelay, action: 'end' }));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.listenHost ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('delay proxy: unexpected listen address');

  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const teardown of [...teardowns]) teardown();
        server.close(() => resolve());
      }),
    setDelays(upstreamMs: number, downstreamMs: number): void {
      upDelay = checkDelay(upstreamMs);
      downDelay = checkDelay(downstreamMs);
    },
  };
}
