import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { dialSession } from '../../../src/dial/relayDialer.js';
import { parseRelayEndpoint } from '../../../src/dial/relayEndpoint.js';
import { caTrust } from '../../../src/dial/tlsTrust.js';
import type { Transport } from '../../../src/transport/transport.js';
import type { ClientAccess } from './relayClient.js';

/**
 * A hostile client's own DAP path to the relay: a loopback port whose connections are
 * relay sessions with `target`, bytes passed unchanged both ways (no framing, no
 * rewriting, no heartbeats of `dbgrelay attach`), plus {@link inject} to write raw
 * bytes into the session as if the client had sent them. A hostile client does not
 * use our CLI, so what reaches the relay is exactly what the test writes.
 */
export interface RawRelayTunnel {
  readonly port: number;
  /** Writes `bytes` to the relay on the newest session, unframed. */
  inject(bytes: Buffer): void;
  /** Everything the relay sent on the newest session so far (latin1). */
  received(): string;
  close(): Promise<void>;
}

/** Starts a {@link RawRelayTunnel} to `target` of the relay `access` reaches. */
export async function startRawRelayTunnel(access: ClientAccess, target: string): Promise<RawRelayTunnel> {
  const sessions = new Set<{ client: Socket; relay: Transport }>();
  let newest: Transport | undefined;
  let newestReceived = '';
  const server = createServer((client) => {
    client.setNoDelay(true);
    client.pause();
    client.on('error', () => undefined);
    dialSession({
      endpoint: parseRelayEndpoint(access.relayUrl),
      trust: caTrust(readFileSync(access.caFile, 'utf8'), access.caFile),
      secret: access.secret,
      target,
      heartbeatMs: 0,
    }).then(
      (relay) => {
        const session = { client, relay };
        sessions.add(session);
        newest = relay;
        newestReceived = '';
        relay.onData((chunk) => {
          if (relay === newest) newestReceived += chunk.toString('latin1');
          client.write(chunk);
        });
        relay.onClose(() => {
          sessions.delete(session);
          client.end();
        });
        client.on('data', (chunk: Buffer) => relay.send(chunk));
        client.on('close', () => relay.close());
        if (client.destroyed) relay.close();
        client.resume();
      },
      () => client.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    inject: (bytes) => {
      if (!newest) throw new Error('no session to inject into');
      newest.send(bytes);
    },
    received: () => newestReceived,
    close: async () => {
      for (const { client, relay } of sessions) {
        client.destroy();
        relay.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
