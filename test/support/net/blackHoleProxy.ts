import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/** A TCP forwarder on loopback that can turn into a network black hole and back. */
export interface BlackHoleProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /**
   * From now on nothing moves in either direction, on open and new connections alike:
   * no byte is read or forwarded, no FIN or RST is passed on, and both sockets of
   * every pair stay open.
   */
  blackHole(): void;
  /** The network is back: what was held flows again (bytes, then any FIN or RST). */
  heal(): void;
  close(): Promise<void>;
}

interface Pair {
  readonly downstream: Socket;
  upstream: Socket | undefined;
  /** Chunks read from downstream before the upstream connection was made. */
  readonly early: Buffer[];
}

/**
 * Starts a forwarder on 127.0.0.1 to `127.0.0.1:targetPort`. While black-holed it
 * stops reading both sockets of each pair (so the kernels' receive windows fill and
 * TCP flow control stops the senders, exactly as when packets are dropped) and
 * forwards no end-of-stream or reset: to both ends, the peer simply goes silent. The
 * kernels still answer TCP keepalive probes, so only an application-level heartbeat
 * can find the silence; that is what a black hole tests.
 */
export async function startBlackHoleProxy(targetPort: number): Promise<BlackHoleProxy> {
  const pairs = new Set<Pair>();
  let holed = false;
  let accepted = 0;

  const link = (from: Socket, to: () => Socket | undefined, pair: Pair): void => {
    from.on('data', (chunk: Buffer) => {
      const target = to();
      if (target) target.write(chunk);
      else pair.early.push(chunk);
    });
    from.on('end', () => to()?.end());
    from.on('close', () => {
      const target = to();
      // A close seen while black-holed waits for heal(): it is passed on then.
      if (!holed) target?.destroy();
    });
    from.on('error', () => undefined); // surfaced as 'close'
  };

  const connectUpstream = (pair: Pair): void => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort, noDelay: true, allowHalfOpen: true });
    pair.upstream = upstream;
    for (const chunk of pair.early.splice(0)) upstream.write(chunk);
    link(upstream, () => pair.downstream, pair);
    upstream.once('close', () => {
      if (!holed) pairs.delete(pair);
    });
  };

  const server = createServer({ allowHalfOpen: true }, (downstream) => {
    accepted++;
    downstream.setNoDelay(true);
    const pair: Pair = { downstream, upstream: undefined, early: [] };
    pairs.add(pair);
    link(downstream, () => pair.upstream, pair);
    downstream.once('close', () => {
      if (!holed) pairs.delete(pair);
    });
    if (holed) downstream.pause();
    else connectUpstream(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    port: (server.address() as AddressInfo).port,
    get accepted() {
      return accepted;
    },
    blackHole: () => {
      holed = true;
      for (const pair of pairs) {
        pair.downstream.pause();
        pair.upstream?.pause();
      }
    },
    heal: () => {
      holed = false;
      for (const pair of [...pairs]) {
        if (!pair.upstream) connectUpstream(pair);
        for (const [socket, other] of [
          [pair.downstream, pair.upstream!],
          [pair.upstream!, pair.downstream],
        ] as const) {
          if (socket.destroyed) other.destroy();
          else socket.resume();
        }
        if (pair.downstream.destroyed && pair.upstream!.destroyed) pairs.delete(pair);
      }
    },
    close: async () => {
      for (const pair of pairs) {
        pair.downstream.destroy();
        pair.upstream?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
