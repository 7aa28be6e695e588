import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createCa, createLeaf, loopbackNames } from '../../../src/certs/certificateFactory.js';
import { testCertificates } from '../keys/testCertificates.js';
import { freePort } from '../net/loopbackProxies.js';
import { runDbgrelay, type CliProcess } from './cliProcess.js';

/** One `dbgrelay serve` of a cluster, as its own process. */
export interface ClusterInstance {
  readonly id: string;
  /** Its data directory (audit log: `audit.log`). */
  readonly dataDir: string;
  readonly tcpsPort: number;
  readonly wssPort: number;
  readonly peerPort: number;
  readonly metricsPort: number;
  serve: CliProcess;
  /** SIGKILL: no release of its claims, no close of its links. */
  kill9(): Promise<void>;
  /** Starts it again with the same configuration and ports. */
  start(): Promise<void>;
}

/** Several relay instances with one store, one secret, one server certificate and peer certificates of one CA. */
export interface RelayCluster {
  readonly instances: ClusterInstance[];
  readonly secret: string;
  /** The CA of the relays' server certificate (agents and clients trust it). */
  readonly caFile: string;
  stop(): Promise<void>;
}

let peerCa: { certPem: string; keyPem: string; dir: string; leaves: Array<{ certFile: string; keyFile: string }> } | undefined;

/** A CA for the links between instances and one peer certificate per instance (RSA generation is slow: made once). */
function peerCertificates(count: number): { caFile: string; leaves: Array<{ certFile: string; keyFile: string }> } {
  if (!peerCa) {
    const ca = createCa('dbgrelay test cluster CA');
    peerCa = { ...ca, dir: mkdtempSync(join(tmpdir(), 'dbgrelay-peer-certs-')), leaves: [] };
    writeFileSync(join(peerCa.dir, 'ca.pem'), ca.certPem);
  }
  const ca = peerCa;
  while (ca.leaves.length < count) {
    const index = ca.leaves.length;
    const leaf = createLeaf(ca, `relay-${index}`, { server: loopbackNames, client: true });
    const certFile = join(ca.dir, `peer-${index}.pem`);
    const keyFile = join(ca.dir, `peer-${index}.key`);
    writeFileSync(certFile, leaf.certPem);
    writeFileSync(keyFile, leaf.keyPem, { mode: 0o600 });
    ca.leaves.push({ certFile, keyFile });
  }
  return { caFile: join(ca.dir, 'ca.pem'), leaves: ca.leaves.slice(0, count) };
}

/**
 * Starts `count` instances of `dbgrelay serve` (the CLI through tsx) on loopback, all
 * with the store at `storeUrl`, `settings` on top; each has its own data directory and
 * ports (tcps, wss, peer, metrics). The children are added to `started` for cleanup.
 */
export async function startRelayCluster(count: number, storeUrl: string, settings: Record<string, unknown>, started: ChildProcess[]): Promise<RelayCluster> {
  const server = testCertificates();
  const peers = peerCertificates(count);
  const secret = `cluster-secret-${Math.random().toString(36).slice(2)}-0123456789`;
  const instances: ClusterInstance[] = [];
  for (let index = 0; index < count; index++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'dbgrelay-cluster-'));
    const id = `relay-${index}`;
    const [tcpsPort, wssPort, peerPort, metricsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const config = {
      ...settings,
      dataDir,
      listeners: { wss: { host: '127.0.0.1', port: wssPort }, tcps: { host: '127.0.0.1', port: tcpsPort } },
      tls: { certFile: server.chainFile, keyFile: server.keyFile },
      metrics: { enabled: true, host: '127.0.0.1', port: metricsPort },
      cluster: {
        ...((settings['cluster'] as Record<string, unknown> | undefined) ?? {}),
        store: { url: storeUrl },
        instanceId: id,
        peer: {
          host: '127.0.0.1',
          port: peerPort,
          advertise: `127.0.0.1:${peerPort}`,
          certFile: peers.leaves[index]!.certFile,
          keyFile: peers.leaves[index]!.keyFile,
          caFile: peers.caFile,
        },
      },
    };
    const configFile = join(dataDir, 'config.yaml');
    writeFileSync(configFile, stringify(config));
    const instance: ClusterInstance = {
      id,
      dataDir,
      tcpsPort,
      wssPort,
      peerPort,
      metricsPort,
      serve: undefined as unknown as CliProcess,
      kill9: async () => {
        const child = instance.serve.child;
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await instance.serve.exited;
      },
      start: async () => {
        instance.serve = runDbgrelay(['serve', '--config', configFile], { DBGRELAY_SECRET: secret });
        started.push(instance.serve.child);
        await instance.serve.waitFor(/tcps listening on/, 30_000);
        await instance.serve.waitFor(/cluster instance started/, 30_000);
      },
    };
    instances.push(instance);
  }
  await Promise.all(instances.map((instance) => instance.start()));
  return {
    instances,
    secret,
    caFile: server.caFile,
    stop: async () => {
      await Promise.all(instances.map((instance) => instance.serve.stop()));
    },
  };
}
