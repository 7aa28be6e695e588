import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { frontEndBinaries } from './frontEnd.js';
import { freePort } from '../net/loopbackProxies.js';

/** A real HAProxy in TCP mode: round robin over several relay instances, TLS passing through. */
export interface TcpBalancer {
  /** Port in front of each group of backends, by group name. */
  readonly ports: Readonly<Record<string, number>>;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts HAProxy balancing each group (name → backend ports on 127.0.0.1) round robin,
 * with a TCP health check every 500 ms so that a killed instance leaves the rotation
 * within about a second, as a cloud load balancer's probe does, and a connection an
 * instance refuses meanwhile retried on another (`option redispatch`).
 */
export async function startTcpBalancer(groups: Record<string, number[]>): Promise<TcpBalancer> {
  const binary = frontEndBinaries.haproxy;
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run \`node test/setupSystem.mjs\` (npm test does) to install haproxy`);
  const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-balancer-'));
  const ports: Record<string, number> = {};
  const sections: string[] = [];
  for (const [name, backends] of Object.entries(groups)) {
    ports[name] = await freePort();
    sections.push(
      `frontend ${name}\n  bind 127.0.0.1:${ports[name]}\n  default_backend ${name}_relays\n`,
      `backend ${name}_relays\n  balance roundrobin\n${backends.map((port, i) => `  server r${i} 127.0.0.1:${port} check inter 500 fall 2 rise 1\n`).join('')}`,
    );
  }
  const config = `global\n  maxconn 4000\ndefaults\n  mode tcp\n  option redispatch\n  retries 3\n  timeout connect 2s\n  timeout client 1h\n  timeout server 1h\n${sections.join('\n')}`;
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  const child = spawn(binary, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (const port of Object.values(ports)) {
    const deadline = Date.now() + 10_000;
    while (
      !(await new Promise<boolean>((resolve) =>
        connect({ host: '127.0.0.1', port })
          .once('connect', function (this: import('node:net').Socket) {
            this.destroy();
            resolve(true);
          })
          .once('error', () => resolve(false)),
      ))
    ) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`haproxy did not listen on ${port}:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    ports,
    output: () => text,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
