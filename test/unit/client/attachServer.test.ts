import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isRelayError } from '../../../src/common/relayError.js';
import { DapFramer, encodeDapMessage } from '../../../src/dap/dapFramer.js';
import { parseDapMessage, type DapMessage } from '../../../src/dap/dapMessage.js';
import { MemoryTransport } from '../../../src/transport/memoryTransport.js';
import type { Transport } from '../../../src/transport/transport.js';
import { startAttachServer, type AttachServer } from '../../../src/client/attachServer.js';
import { isLoopbackHost } from '../../../src/common/loopbackHost.js';
import { parseRelayEndpoint } from '../../../src/dial/relayEndpoint.js';
import { pinTrust, type TlsTrust } from '../../../src/dial/tlsTrust.js';
import { DapRequestError, DapTestClient } from '../../support/dap/dapTestClient.js';
import { testCertificates } from '../../support/keys/testCertificates.js';
import { startFakeHttpsRelay, type FakeRelay } from '../../support/fakes/fakeRelay.js';

let trust: TlsTrust;
let server: AttachServer | undefined;
let relay: FakeRelay | undefined;
const clients: DapTestClient[] = [];

beforeAll(() => {
  trust = pinTrust(testCertificates().caFingerprint);
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.destroy();
  await server?.close();
  server = undefined;
  await relay?.close();
  relay = undefined;
});

async function connect(port: number): Promise<DapTestClient> {
  const client = await DapTestClient.connect(port);
  clients.push(client);
  return client;
}

/** A fake remote adapter behind an injected dial: returns its end of each session. */
function memoryDial(): { dial: () => Promise<Transport>; sessions: Array<{ send(m: object): void; received: DapMessage[]; transport: MemoryTransport }> } {
  const sessions: Array<{ send(m: object): void; received: DapMessage[]; transport: MemoryTransport }> = [];
  return {
    sessions,
    dial: async () => {
      const [ours, remote] = MemoryTransport.pair();
      const framer = new DapFramer(1 << 20);
      const received: DapMessage[] = [];
      remote.onData((chunk) => {
        for (const { body } of framer.push(chunk)) {
          const message = parseDapMessage(body);
          received.push(message);
          if (message.type === 'request') {
            const request = message as DebugProtocol.Request;
            remote.send(encodeDapMessage({ seq: 100 + request.seq, type: 'response', request_seq: request.seq, command: request.command, success: true }));
          }
        }
      });
      sessions.push({ send: (m) => remote.send(encodeDapMessage(m)), received, transport: remote });
      return ours;
    },
  };
}

describe('startAttachServer', () => {
  it('asks the relay for a takeover on every session with takeover, and never without it', async () => {
    const asked: Array<boolean | undefined> = [];
    const fake = memoryDial();
    const dial = (options: { takeover?: boolean }): Promise<Transport> => {
      asked.push(options.takeover);
      return fake.dial();
    };
    for (const takeover of [true, false]) {
      server = await startAttachServer({ endpoint: parseRelayEndpoint('tcps://relay.invalid'), target: 'web-1', trust, port: 0, dial, ...(takeover ? { takeover } : {}) });
      for (let i = 0; i < 2; i++) {
        const client = await connect(server.address.port);
        await client.request('initialize', { adapterID: 'debugpy' });
        await client.close();
      }
      await server.close();
    }
    expect(asked).toEqual([true, true, undefined, undefined]);
  });

  it('answers the first request with a DAP error when the relay refuses the session', async () => {
    relay = await startFakeHttpsRelay(testCertificates(), () => ({
      status: 404,
      body: '{"error":{"code":"UNKNOWN_TARGET","message":"no target named \\"web-9\\" is connected"}}',
    }));
    const errors: string[] = [];
    server = await startAttachServer({
      endpoint: parseRelayEndpoint(`wss://127.0.0.1:${relay.port}`),
      target: 'web-9',
      secret: 'hunter2-secret',
      trust,
      port: 0,
      logger: { info: () => undefined, error: (m) => errors.push(m) },
    });
    const client = await connect(server.address.port);
    const failure = await client.request('initialize', { adapterID: 'debugpy', clientID: 'vscode' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(DapRequestError);
    const expected = 'dbgrelay: relay refused: no target named "web-9" is connected (UNKNOWN_TARGET)';
    expect((failure as DapRequestError).response).toMatchObject({ command: 'initialize', success: false, message: expected });
    const output = await client.waitForEvent<DebugProtocol.OutputEvent>('output');
    expect(output.body).toEqual({ category: 'important', output: `${expected}\n` });
    await client.closed;
    expect(errors).toEqual(['session 1: relay refused: no target named "web-9" is connected (UNKNOWN_TARGET)']);
    expect(JSON.stringify(client.events) + errors.join()).not.toContain('hunter2');
  });

  it('pipes each connection to its own session and rewrites subprocess announcements to its own port', async () => {
    const fake = memoryDial();
    server = await startAttachServer({ endpoint: parseRelayEndpoint('tcps://relay.invalid'), target: 'web-1', trust, port: 0, dial: fake.dial });
    const client = await connect(server.address.port);
    await client.request('initialize', { adapterID: 'debugpy' });
    expect(fake.sessions).toHaveLength(1);
    const session = fake.sessions[0]!;
    session.send({ seq: 7, type: 'event', event: 'debugpyAttach', body: { subProcessId: 9, connect: { host: '127.0.0.1', port: 43210 } } });
    const announced = await client.waitForEvent('debugpyAttach');
    expect(announced.body).toEqual({ subProcessId: 9, connect: { host: '127.0.0.1', port: server.address.port }, request: 'attach' });
    session.send({ seq: 8, type: 'request', command: 'startDebugging', arguments: { request: 'attach', configuration: { subProcessId: 10 } } });
    await expect.poll(() => session.received.find((m) => m.type === 'response')).toMatchObject({ command: 'startDebugging', success: true });
    expect(client.reverseRequests[0]?.arguments).toEqual({ request: 'attach', configuration: { subProcessId: 10, connect: { host: '127.0.0.1', port: server.address.port } } });
    // A second connection (the subprocess session) is a second relay session.
    const second = await connect(server.address.port);
    await second.request('initialize', {});
    expect(fake.sessions).toHaveLength(2);
  });

  it('closes the relay session when the DAP client left while dialing', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const [ours, remote] = MemoryTransport.pair();
    server = await startAttachServer({
      endpoint: parseRelayEndpoint('wss://relay.invalid'),
      target: 'web-1',
      trust,
      port: 0,
      dial: async () => {
        await gate;
        return ours;
      },
    });
    const client = await connect(server.address.port);
    await client.destroy();
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    await expect.poll(() => remote.closed).toBe(true);
  });

  it('ends sessions on close()', async () => {
    const fake = memoryDial();
    server = await startAttachServer({ endpoint: parseRelayEndpoint('wss://relay.invalid'), target: 'web-1', trust, port: 0, dial: fake.dial });
    const client = await connect(server.address.port);
    await client.request('initialize', {});
    await server.close();
    server = undefined;
    await client.closed;
    await expect.poll(() => fake.sessions[0]!.transport.closed).toBe(true);
  });

  it('listens on loopback only and reports a port in use', async () => {
    const endpoint = parseRelayEndpoint('wss://relay.invalid');
    await expect(startAttachServer({ endpoint, target: 'web-1', trust, host: '0.0.0.0', port: 0 })).rejects.toSatisfy((e) => isRelayError(e, 'CONFIG_INVALID'));
    server = await startAttachServer({ endpoint, target: 'web-1', trust, port: 0 });
    const busy = await startAttachServer({ endpoint, target: 'web-1', trust, port: server.address.port }).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(busy && isRelayError(busy, 'CONFIG_INVALID')).toBe(true);
    expect(busy?.message).toMatch(/is in use/);
  });

  it('isLoopbackHost', () => {
    expect(['127.0.0.1', '127.8.9.1', '::1', 'localhost', '::ffff:127.0.0.1'].map(isLoopbackHost)).toEqual([true, true, true, true, true]);
    expect(['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1'].map(isLoopbackHost)).toEqual([false, false, false, false, false]);
  });
});
