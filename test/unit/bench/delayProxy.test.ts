import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DelayProxy, startDelayProxy } from '../../../bench/tools/delayProxy.js';
import { seededRandom as prng } from '../../support/seededRandom.js';

/** Collects every byte a socket receives and resolves waits for a byte count. */
class Reader {
  private readonly chunks: Buffer[] = [];
  private waiters: { bytes: number; resolve: () => void }[] = [];
  length = 0;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.length += chunk.length;
      const ready = this.waiters.filter((w) => this.length >= w.bytes);
      this.waiters = this.waiters.filter((w) => this.length < w.bytes);
      for (const w of ready) w.resolve();
    });
  }

  until(bytes: number): Promise<void> {
    if (this.length >= bytes) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ bytes, resolve }));
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Echoes every chunk; ends its side when the peer ends (half-close aware). */
async function startEcho(): Promise<{ port: number; sockets: Set<Socket>; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => socket.write(chunk));
    socket.on('end', () => socket.end());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as { port: number }).port, sockets, server };
}

async function openClient(port: number): Promise<{ socket: Socket; reader: Reader }> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  const reader = new Reader(socket);
  await once(socket, 'connect');
  return { socket, reader };
}

/** `count` sequential 1-byte ping-pongs; the milliseconds of each. */
async function roundTrips(socket: Socket, reader: Reader, count: number): Promise<number[]> {
  const rtts: number[] = [];
  for (let i = 0; i < count; i++) {
    const arrived = reader.until(reader.length + 1);
    const start = performance.now();
    socket.write(Buffer.from([i & 0xff]));
    await arrived;
    rtts.push(performance.now() - start);
  }
  return rtts;
}

function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

describe('startDelayProxy', () => {
  let echo: Awaited<ReturnType<typeof startEcho>>;
  const cleanups: (() => Promise<void> | void)[] = [];
  const proxyTo = async (up: number, down: number): Promise<DelayProxy> => {
    const proxy = await startDelayProxy({ targetHost: '127.0.0.1', targetPort: echo.port, upstreamDelayMs: up, downstreamDelayMs: down });
    cleanups.push(() => proxy.close());
    return proxy;
  };
  const client = async (port: number): Promise<{ socket: Socket; reader: Reader }> => {
    const opened = await openClient(port);
    cleanups.push(() => void opened.socket.destroy());
    return opened;
  };

  beforeAll(async () => {
    echo = await startEcho();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    for (const socket of echo.sockets) socket.destroy();
    await new Promise<void>((resolve) => echo.server.close(() => resolve()));
  });

  it('adds upstream + downstream delay to every round trip, never less', async () => {
    const proxy = await proxyTo(15, 10);
    const viaProxy = await client(proxy.port);
    await roundTrips(viaProxy.socket, viaProxy.reader, 1); // the connection is up end to end
    const delayed = await roundTrips(viaProxy.socket, viaProxy.reader, 10);
    const direct = await client(echo.port);
    await roundTrips(direct.socket, direct.reader, 1);
    const undelayed = await roundTrips(direct.socket, direct.reader, 10);
    console.log(`delayProxy 15/10 ms: median RTT ${median(delayed).toFixed(2)} ms (min ${Math.min(...delayed).toFixed(2)}); direct ${median(undelayed).toFixed(2)} ms`);

    for (const rtt of delayed) expect(rtt).toBeGreaterThanOrEqual(25);
    expect(median(delayed)).toBeLessThan(25 + 15);
    expect(median(undelayed)).toBeLessThan(5);
  });

  it('charges the TCP handshake: the first round trip after connect takes two RTTs', async () => {
    const proxy = await proxyTo(15, 10);
    const viaProxy = await client(proxy.port);
    const [first] = await roundTrips(viaProxy.socket, viaProxy.reader, 1);
    const [second] = await roundTrips(viaProxy.socket, viaProxy.reader, 1);
    expect(first).toBeGreaterThanOrEqual(2 * 25);
    expect(first).toBeLessThan(2 * 25 + 20);
    expect(second).toBeLessThan(25 + 15);
  });

  it('preserves byte order and content across concurrent connections and delay changes', async () => {
    const proxy = await proxyTo(5, 5);
    const clients = [await client(proxy.port), await client(proxy.port)];
    const random = prng(0x5eed);
    const sent: Buffer[][] = [[], []];
    const chunks = 2000;
    for (let i = 0; i < chunks; i++) {
      const which = random() < 0.5 ? 0 : 1;
      const chunk = randomBytes(1 + Math.floor(random() * 4096));
      sent[which]!.push(chunk);
      clients[which]!.socket.write(chunk);
      // Interleave writes with the echo flowing back; flip the delays mid-stream so that
      // undelayed chunks queue behind delayed ones (they must wait, never overtake).
      if (i === chunks / 3) proxy.setDelays(0, 0);
      if (i === (2 * chunks) / 3) proxy.setDelays(5, 5);
      const pause = random();
      if (pause < 0.05) await new Promise((resolve) => setTimeout(resolve, 1 + Math.floor(random() * 5)));
      else if (pause < 0.3) await new Promise((resolve) => setImmediate(resolve));
    }
    const expected = sent.map((list) => Buffer.concat(list));
    await Promise.all(clients.map((c, i) => c.reader.until(expected[i]!.length)));
    expect(expected[0]!.length + expected[1]!.length).toBeGreaterThan(2_000_000);
    for (const [i, c] of clients.entries()) expect(c.reader.bytes().equals(expected[i]!)).toBe(true);
  });

  it('setDelays applies to subsequent chunks', async () => {
    const proxy = await proxyTo(0, 0);
    const { socket, reader } = await client(proxy.port);
    await roundTrips(socket, reader, 1);
    const fast = await roundTrips(socket, reader, 5);
    proxy.setDelays(20, 20);
    const slow = await roundTrips(socket, reader, 5);
    console.log(`delayProxy setDelays: median RTT 0/0 ${median(fast).toFixed(2)} ms, 20/20 ${median(slow).toFixed(2)} ms`);

    expect(median(fast)).toBeLessThan(10);
    for (const rtt of slow) expect(rtt).toBeGreaterThanOrEqual(40);
    expect(median(slow)).toBeLessThan(40 + 20);
  });

  it('half-close: bytes sent before the target is dialled arrive, and the FIN takes the delay both ways', async () => {
    const proxy = await proxyTo(5, 5);
    const { socket, reader } = await client(proxy.port);
    const payload = randomBytes(256 * 1024);
    for (let offset = 0; offset < payload.length; offset += 8192) socket.write(payload.subarray(offset, offset + 8192));
    const ended = once(socket, 'end');
    const endAt = performance.now();
    socket.end();
    await ended;
    const finRoundTrip = performance.now() - endAt;

    expect(reader.bytes().equals(payload)).toBe(true);
    expect(finRoundTrip).toBeGreaterThanOrEqual(10);
    await once(socket, 'close');
  });

  it('close() ends live connections on both sides', async () => {
    const proxy = await startDelayProxy({ targetHost: '127.0.0.1', targetPort: echo.port, upstreamDelayMs: 5, downstreamDelayMs: 5 });
    const { socket, reader } = await client(proxy.port);
    await roundTrips(socket, reader, 1);
    expect(echo.sockets.size).toBe(1);
    const [targetSide] = echo.sockets;
    // close() destroys; with unread bytes the kernel resets, so the client may see ECONNRESET before 'close'.
    socket.on('error', () => {});
    const clientClosed = new Promise((resolve) => socket.on('close', resolve));
    const targetClosed = new Promise((resolve) => targetSide!.on('close', resolve));
    socket.write('pending'); // still queued in the proxy when it closes
    await proxy.close();
    await Promise.all([clientClosed, targetClosed]);
    expect(echo.sockets.size).toBe(0);
  });
});
