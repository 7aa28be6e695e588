import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testCertificates } from '../keys/testCertificates.js';
import { freePort } from '../net/loopbackProxies.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The front ends deploy/frontends/ has an example for, and their binaries. */
export const frontEndBinaries = { nginx: '/usr/sbin/nginx', haproxy: '/usr/sbin/haproxy' } as const;
export type FrontEndKind = keyof typeof frontEndBinaries;

/** A real nginx or HAProxy, terminating TLS on loopback in front of a plain-HTTP relay. */
export interface RunningFrontEnd {
  readonly kind: FrontEndKind;
  /** The port it accepts TLS on (127.0.0.1). */
  readonly port: number;
  /** The CA its certificate chains to (names: localhost, 127.0.0.1, ::1). */
  readonly caFile: string;
  /** The example file as run, placeholders substituted. */
  readonly configText: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Replaces every `{{NAME}}` of an example file; a placeholder without a value (a
 * typo on either side) fails the test instead of starting a broken front end.
 */
export function substitute(template: string, values: Record<string, string>): string {
  const text = template.replace(/\{\{([A-Z_]+)\}\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for placeholder ${whole}`);
    return value;
  });
  const unused = Object.keys(values).filter((name) => !template.includes(`{{${name}}}`));
  if (unused.length > 0) throw new Error(`placeholders not in the example file: ${unused.join(', ')}`);
  return text;
}

function waitForPort(port: number, child: ChildProcess, output: () => string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (child.exitCode !== null) return reject(new Error(`front end exited with ${child.exitCode}:\n${output()}`));
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`front end never listened on ${port}:\n${output()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/**
 * Starts `deploy/frontends/nginx.conf` or `haproxy.cfg`, placeholders substituted,
 * with its own temporary directory (pid, logs, temp files) and a node-forge
 * certificate, forwarding to the relay's plain-HTTP listener at `127.0.0.1:relayPort`.
 * Throws (the test fails, it is not skipped) when the binary is missing.
 */
export async function startFrontEnd(kind: FrontEndKind, relayPort: number): Promise<RunningFrontEnd> {
  const binary = frontEndBinaries[kind];
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run \`node test/setupSystem.mjs\` (npm test does) to install ${kind}`);
  const certs = testCertificates('frontend');
  const dir = mkdtempSync(join(tmpdir(), `dbgrelay-${kind}-`));
  chmodSync(dir, 0o755); // nginx's workers (user nobody when started as root) use the temp paths inside
  const port = await freePort();
  const relay = `127.0.0.1:${relayPort}`;
  let configText: string;
  let args: string[];
  if (kind === 'nginx') {
    const template = readFileSync(join(root, 'deploy', 'frontends', 'nginx.conf'), 'utf8');
    configText = substitute(template, {
      RUN_DIR: dir,
      LISTEN: `127.0.0.1:${port}`,
      SERVER_NAME: 'localhost',
      CERT_FILE: certs.chainFile,
      KEY_FILE: certs.keyFile,
      RELAY: relay,
    });
    const file = join(dir, 'nginx.conf');
    writeFileSync(file, configText);
    args = ['-p', dir, '-e', join(dir, 'error.log'), '-c', file, '-g', 'daemon off;'];
  } else {
    const template = readFileSync(join(root, 'deploy', 'frontends', 'haproxy.cfg'), 'utf8');
    const pemFile = join(dir, 'frontend.pem');
    writeFileSync(pemFile, certs.chainPem + certs.keyPem, { mode: 0o600 });
    configText = substitute(template, { LISTEN: `127.0.0.1:${port}`, PEM_FILE: pemFile, RELAY: relay });
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, configText);
    args = ['-db', '-f', file, '-p', join(dir, 'haproxy.pid')];
  }
  const child = spawn(binary, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const output = (): string => text + (kind === 'nginx' && existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPort(port, child, output);
  return {
    kind,
    port,
    caFile: certs.caFile,
    configText,
    output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
