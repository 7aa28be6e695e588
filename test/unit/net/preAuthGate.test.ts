import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PreAuthRefusal } from '../../../src/metrics/preAuthMetrics.js';
import { PreAuthConnections } from '../../../src/net/preAuthConnections.js';
import { PreAuthGate } from '../../../src/net/preAuthGate.js';

/** A plain TCP server behind the gate that counts the connections its own handler saw. */
async function gatedServer(gate: PreAuthGate): Promise<{ server: Server; port: number; started: Socket[] }> {
  const started: Socket[] = [];
  const server = createServer((socket) => started.push(socket));
  gate.guard(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, started };
}

function dial(port: number, from: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: from }, () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('PreAuthGate waiting connections', () => {
  const cleanup: Array<() => void> = [];
  afterEach(() => {
    for (const step of cleanup.splice(0)) step();
  });

  it('starts waiting connections in arrival order as slots free, holds them to the per-source cap, and destroys one that waited past its bound', async () => {
    const refusals: PreAuthRefusal[] = [];
    const connections = new PreAuthConnections({ maxUnauthenticatedConnections: 2, maxUnauthenticatedPerSource: 2 });
    const gate = new PreAuthGate(
      connections,
      (refusal) => refusals.push(refusal),
      () => false,
      { maxWaiting: 3, maxWaitMs: 1_500 },
    );
    const { server, port, started } = await gatedServer(gate);
    const sockets: Socket[] = [];
    cleanup.push(() => {
      for (const socket of sockets) socket.destroy();
      server.close();
    });
    sockets.push(await dial(port, '127.0.1.1'), await dial(port, '127.0.1.2'));
    await vi.waitFor(() => expect(started).toHaveLength(2));
    // Both slots taken: the next ones wait, before the server's own handler sees them.
    sockets.push(await dial(port, '127.0.1.3'), await dial(port, '127.0.1.4'));
    await vi.waitFor(() => expect(gate.waitingCount).toBe(2));
    // One source holds 1 admitted connection; with one waiting it is at its cap of 2.
    sockets.push(await dial(port, '127.0.1.1'));
    await vi.waitFor(() => expect(gate.waitingCount).toBe(3));
    const overSource = await dial(port, '127.0.1.1');
    await vi.waitFor(() => expect(refusals).toEqual(['maxUnauthenticatedPerSource']));
    overSource.destroy();
    const overWaiting = await dial(port, '127.0.1.9');
    await vi.waitFor(() => expect(refusals).toEqual(['maxUnauthenticatedPerSource', 'maxWaitingConnections']));
    overWaiting.destroy();
    expect(started).toHaveLength(2);

    // A slot frees: the first in line (127.0.1.3) starts, then the next (127.0.1.4).
    started[0]!.destroy();
    await vi.waitFor(() => expect(started).toHaveLength(3));
    expect(started[2]!.remoteAddress).toBe('127.0.1.3');
    gate.authenticated(started[1]!);
    await vi.waitFor(() => expect(started).toHaveLength(4));
    expect(started[3]!.remoteAddress).toBe('127.0.1.4');
    // The last one waits past 1.5 s with no slot free: destroyed, counted as waitTimeout.
    await vi.waitFor(() => expect(refusals).toContain('waitTimeout'), { timeout: 4_000 });
    expect(gate.waitingCount).toBe(0);
    expect(started).toHaveLength(4);
  });

  it('destroys the connections still waiting once their listener closes, so that closing the relay does not wait for them', async () => {
    const connections = new PreAuthConnections({ maxUnauthenticatedConnections: 1, maxUnauthenticatedPerSource: 4 });
    const gate = new PreAuthGate(
      connections,
      () => undefined,
      () => false,
      { maxWaiting: 4, maxWaitMs: 60_000 },
    );
    const { server, port, started } = await gatedServer(gate);
    const first = await dial(port, '127.0.2.1');
    const waiting = await dial(port, '127.0.2.2');
    waiting.resume(); // reads, so that it sees the relay's side close
    waiting.on('error', () => undefined);
    cleanup.push(() => {
      first.destroy();
      waiting.destroy();
    });
    await vi.waitFor(() => expect(gate.waitingCount).toBe(1));
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    started[0]!.destroy();
    await vi.waitFor(() => expect(waiting.closed).toBe(true), { timeout: 3_000 });
    await closed;
    expect(gate.waitingCount).toBe(0);
    expect(started).toHaveLength(1);
  });
});
