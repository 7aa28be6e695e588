/**
 * The cost of dbgrelay's Node.js hops alone: `dbgrelay attach` and the relay, each its
 * own built process as users run them, with a stand-in agent in this process that
 * answers every request at once instead of the agent's bridge and debugpy. Beside it
 * the same client through two bare Node.js pipes (TCP in and TLS out, TLS in and out)
 * to a stand-in that ends TLS in this process: the floor of those two hops. Shows what a change to the relay's or the client's message path is worth,
 * without the noise of the Python processes. See BENCHMARKS.md.
 *
 *   npm run bench:legs                     # 5000 requests per path, 3 rounds
 *   BENCH_REQUESTS=20000 npm run bench:legs
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import { DapFramer, encodeDapMessage } from '../src/dap/dapFramer.js';
import { DapTestClient } from '../test/support/dap/dapTestClient.js';
import { waitForTargets } from '../test/support/relay/relayClient.js';
import { FakeAgent } from '../test/support/fakes/fakeAgent.js';
import { startAttachProcess, startRelayProcess } from './tools/relayProcesses.js';
import { percentile } from './tools/stats.js';
import { startNodePipe } from './tools/hopChain.js';
import { testCertificates } from '../test/support/keys/testCertificates.js';
import { positiveSetting } from './tools/settings.js';

const requests = positiveSetting('BENCH_REQUESTS', 5000);
const rounds = positiveSetting('BENCH_ROUNDS', 3);

/** Answers every DAP request in `chunk`s with a small `threads`-like response. */
function answerer(send: (bytes: Buffer) => void): (chunk: Buffer) => void {
  const framer = new DapFramer(1 << 20);
  let seq = 0;
  return (chunk) => {
    for (const { body } of framer.push(chunk)) {
      const request = JSON.parse(body.toString('utf8')) as { seq: number; command: string; type: string };
      if (request.type !== 'request') continue;
      const threads = [
        { id: 1, name: 'MainThread' },
        { id: 2, name: 'worker' },
      ];
      send(encodeDapMessage({ type: 'response', seq: ++seq, request_seq: request.seq, command: request.command, success: true, body: { threads } }));
    }
  };
}

/**
 * A stand-in answering at once, plain TCP (the direct path) or TLS (the end of the
 * bare-pipe path, as the stand-in agent ends dbgrelay's TLS in this process).
 */
async function startAnsweringServer(certs?: { chainFile: string; keyFile: string }): Promise<Server> {
  const onConnection = (socket: Socket): void => {
    socket.setNoDelay(true);
    socket.on(
      'data',
      answerer((bytes) => socket.write(bytes)),
    );
    socket.on('error', () => socket.destroy()); // the client resets when a round ends
  };
  const server = certs ? createTlsServer({ cert: readFileSync(certs.chainFile), key: readFileSync(certs.keyFile) }, onConnection) : createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function timeRequests(port: number, count: number, samples: number[]): Promise<void> {
  const client = await DapTestClient.connect(port);
  for (let i = 0; i < 200; i++) await client.request('threads');
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await client.request('threads');
    samples.push(performance.now() - started);
  }
  client.destroy();
}

async function main(): Promise<void> {
  const relay = await startRelayProcess();
  const answering = await startAnsweringServer();
  const stops: Array<() => unknown> = [() => relay.stop(), () => answering.close()];
  const paths: Array<{ label: string; port: number; samples: number[] }> = [];
  try {
    const answeringPort = (answering.address() as { port: number }).port;
    paths.push({ label: 'direct to the stand-in', port: answeringPort, samples: [] });
    const certs = testCertificates('relay-legs');
    const answeringTls = await startAnsweringServer(certs);
    stops.push(() => answeringTls.close());
    const relayHop = await startNodePipe('tls', certs, (answeringTls.address() as { port: number }).port);
    const clientHop = await startNodePipe('tcp', certs, relayHop.port);
    stops.push(() => {
      for (const hop of [relayHop, clientHop]) hop.child.kill();
    });
    paths.push({ label: 'bare Node pipes (client hop, relay hop)', port: clientHop.port, samples: [] });
    for (const via of ['tcps', 'wss'] as const) {
      const relayUrl = via === 'wss' ? relay.wssUrl : relay.tcpsUrl;
      const url = new URL(relayUrl);
      const name = `legs-${via}`;
      const agent = await FakeAgent.connect({
        via,
        address: { host: url.hostname, port: Number(url.port), url: `${url.protocol}//${url.host}` },
        ca: readFileSync(relay.caFile, 'utf8'),
        secret: relay.secret,
        name,
        agentId: `agent-${via}`,
        onDataConnection: (connection) => {
          const answer = answerer((bytes) => connection.send(bytes));
          answer(connection.received()); // what arrived with the handshake
          connection.onReceive(answer);
        },
      });
      stops.push(() => agent.close());
      await waitForTargets({ relayUrl, caFile: relay.caFile, secret: relay.secret }, (t) => t.some((x) => x.name === name));
      const attach = await startAttachProcess(relay, relayUrl, name);
      stops.push(() => attach.stop());
      paths.push({ label: `dbgrelay attach + relay over ${via}`, port: attach.port, samples: [] });
    }
    for (let round = 0; round < rounds; round++) {
      for (const path of paths) await timeRequests(path.port, Math.ceil(requests / rounds), path.samples);
    }
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
  const direct = percentile(paths[0]!.samples, 50);
  console.log(`\n${requests} sequential requests per path in ${rounds} interleaved rounds; p50 / p99 in µs\n`);
  console.log('| path | p50 | p99 | added over direct, p50 |');
  console.log('|---|---:|---:|---:|');
  for (const path of paths) {
    const p50 = percentile(path.samples, 50);
    console.log(
      `| ${path.label} | ${(p50 * 1000).toFixed(0)} | ${(percentile(path.samples, 99) * 1000).toFixed(0)} | ${path === paths[0] ? '' : ((p50 - direct) * 1000).toFixed(0)} |`,
    );
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
