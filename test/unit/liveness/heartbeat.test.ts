import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { isRelayError } from '../../../src/common/relayError.js';
import { InterceptorChain } from '../../../src/dap/interceptorChain.js';
import { DapPipe } from '../../../src/dap/dapPipe.js';
import { encodeDapMessage } from '../../../src/dap/dapFramer.js';
import { heartbeatMessage } from '../../../src/liveness/heartbeat.js';
import { echoHeartbeats } from '../../../src/liveness/heartbeatEcho.js';
import { LivenessTransport } from '../../../src/liveness/livenessTransport.js';
import { startWebSocketHeartbeat } from '../../../src/liveness/webSocketHeartbeat.js';
import { MemoryTransport } from '../../../src/transport/memoryTransport.js';
import { WebSocketTransport } from '../../../src/transport/webSocketTransport.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LivenessTransport', () => {
  it('closes with HEARTBEAT_TIMEOUT after the peer was silent for the timeout, and says so once', async () => {
    const [near] = MemoryTransport.pair();
    let misses = 0;
    const live = new LivenessTransport(near, 120, () => misses++);
    live.onData(() => undefined);
    const closed = new Promise<Error | undefined>((resolve) => live.onClose(resolve));
    const error = await closed;
    expect(isRelayError(error, 'HEARTBEAT_TIMEOUT')).toBe(true);
    expect(error?.message).toMatch(/limit 120 ms/);
    expect(misses).toBe(1);
    expect(live.closed).toBe(true);
  });

  it('stays open while bytes keep arriving', async () => {
    const [near, far] = MemoryTransport.pair();
    const live = new LivenessTransport(near, 150);
    const received: string[] = [];
    live.onData((chunk) => received.push(chunk.toString()));
    for (let i = 0; i < 8; i++) {
      far.send(Buffer.from(String(i)));
      await sleep(50);
    }
    expect(live.closed).toBe(false);
    expect(received.join('')).toBe('01234567');
    live.destroy();
  });
});

describe('the relay answers tcps heartbeats and never forwards them', () => {
  it('echoes a client heartbeat to the client and drops it before the adapter', async () => {
    const [client, clientPeer] = MemoryTransport.pair();
    const [adapter, adapterPeer] = MemoryTransport.pair();
    const chain = new InterceptorChain();
    echoHeartbeats(chain);
    const pipe = new DapPipe(client, adapter, { maxMessageBytes: 1 << 20, interceptors: chain.build() });
    const toClient: Buffer[] = [];
    const toAdapter: Buffer[] = [];
    clientPeer.onData((chunk) => toClient.push(chunk));
    adapterPeer.onData((chunk) => toAdapter.push(chunk));
    clientPeer.send(encodeDapMessage(heartbeatMessage()));
    clientPeer.send(encodeDapMessage({ seq: 1, type: 'request', command: 'threads' }));
    await sleep(20);
    expect(Buffer.concat(toClient).toString()).toContain('"event":"dbgrelay.heartbeat"');
    expect(Buffer.concat(toAdapter).toString()).not.toContain('heartbeat');
    expect(Buffer.concat(toAdapter).toString()).toContain('"command":"threads"');
    pipe.close();
  });
});

describe('the relay answers the tcps heartbeats of the agent bridge and never forwards them', () => {
  it('echoes an agent heartbeat to the agent and drops it before the client', async () => {
    const [client, clientPeer] = MemoryTransport.pair();
    const [adapter, adapterPeer] = MemoryTransport.pair();
    const chain = new InterceptorChain();
    echoHeartbeats(chain);
    const pipe = new DapPipe(client, adapter, { maxMessageBytes: 1 << 20, interceptors: chain.build() });
    const toClient: Buffer[] = [];
    const toAdapter: Buffer[] = [];
    clientPeer.onData((chunk) => toClient.push(chunk));
    adapterPeer.onData((chunk) => toAdapter.push(chunk));
    adapterPeer.send(encodeDapMessage(heartbeatMessage()));
    adapterPeer.send(encodeDapMessage({ seq: 3, type: 'event', event: 'stopped', body: { reason: 'pause' } }));
    await sleep(20);
    expect(Buffer.concat(toAdapter).toString()).toContain('"event":"dbgrelay.heartbeat"');
    expect(Buffer.concat(toClient).toString()).not.toContain('heartbeat');
    expect(Buffer.concat(toClient).toString()).toContain('"event":"stopped"');
    pipe.close();
  });
});

describe('WebSocketTransport heartbeat', () => {
  async function pair(): Promise<{ server: WebSocketTransport; client: WebSocket; close(): Promise<void> }> {
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
    const server = new WebSocketTransport(await accepted, 'test');
    await new Promise((resolve) => client.once('open', resolve));
    return {
      server,
      client,
      close: async () => {
        client.terminate();
        wss.close();
        await new Promise((resolve) => http.close(resolve));
      },
    };
  }

  it('keeps a peer that answers pings, even when no data flows', async () => {
    const { server, close } = await pair();
    startWebSocketHeartbeat(server, 40, 200);
    await sleep(500);
    expect(server.closed).toBe(false);
    await close();
  });

  it('closes a peer that stopped answering with HEARTBEAT_TIMEOUT', async () => {
    const { server, client, close } = await pair();
    // A frozen peer: its socket stays open but nothing is read, so no pong comes back.
    (client as unknown as { _socket: { pause(): void } })._socket.pause();
    let misses = 0;
    const closed = new Promise<Error | undefined>((resolve) => server.onClose(resolve));
    startWebSocketHeartbeat(server, 40, 200, () => misses++);
    const error = await closed;
    expect(isRelayError(error, 'HEARTBEAT_TIMEOUT')).toBe(true);
    expect(misses).toBe(1);
    await close();
  });
});
