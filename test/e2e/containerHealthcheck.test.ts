import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { healthcheckCommand, runtimeEnvironment } from '../support/deploy/dockerfile.js';
import { runDbgrelay } from '../support/processes/cliProcess.js';

/**
 * The container image's HEALTHCHECK, run for real (no container engine here): the
 * command of deploy/container/Dockerfile against `dbgrelay serve` started with the
 * image's environment, its development certificate, and the metrics listener off.
 */
const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** A port free on the loopback now (the image's ports are fixed; so are these). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The image's environment on this host: loopback instead of 0.0.0.0, free ports, a fresh data directory, metrics off. */
async function imageEnvironment(): Promise<Record<string, string>> {
  const environment = runtimeEnvironment();
  expect(environment).toMatchObject({ DBGRELAY_WSS_HOST: '0.0.0.0', DBGRELAY_DATA_DIR: '/var/lib/dbgrelay' });
  return {
    ...environment,
    DBGRELAY_DATA_DIR: mkdtempSync(join(tmpdir(), 'dbgrelay-healthcheck-')),
    DBGRELAY_WSS_HOST: '127.0.0.1',
    DBGRELAY_TCPS_HOST: '127.0.0.1',
    DBGRELAY_WSS_PORT: String(await freePort()),
    DBGRELAY_TCPS_PORT: String(await freePort()),
    DBGRELAY_METRICS_ENABLED: 'false',
  };
}

/** Runs the HEALTHCHECK's command (`node /app/dist/cli/main.js …` is the image's dbgrelay) with `env`; its exit status and output. */
async function runHealthcheck(env: Record<string, string>, extra: string[] = []): Promise<{ status: number | null; output: string }> {
  const [node, entry, ...args] = healthcheckCommand();
  expect([node, entry]).toEqual(['node', '/app/dist/cli/main.js']);
  const check = runDbgrelay([...args, ...extra], env);
  running.push(check.child);
  const status = await check.exited;
  return { status, output: check.output() };
}

describe('the container HEALTHCHECK', () => {
  it('is healthy while the relay serves on its main listener with metrics off, unhealthy once it stopped', async () => {
    const env = await imageEnvironment();
    const serve = runDbgrelay(['serve'], env);
    running.push(serve.child);
    await serve.waitFor(/wss\s+listening on/, 30_000);
    expect(serve.output()).not.toMatch(/metrics, \/healthz/);

    const healthy = await runHealthcheck(env);
    expect(healthy.output).toContain(`https://127.0.0.1:${env['DBGRELAY_WSS_PORT']}/livez: ok`);
    expect(healthy.status, healthy.output).toBe(0);
    const ready = await runHealthcheck(env, ['--ready']);
    expect(ready.output).toContain('/readyz: ready');
    expect(ready.status).toBe(0);

    serve.child.kill('SIGINT');
    expect(await serve.exited).toBe(0);
    const gone = await runHealthcheck(env);
    expect(gone.status).toBe(1);
    expect(gone.output).toMatch(/ECONNREFUSED \(RELAY_UNREACHABLE\)/);
  });

  it('probes the port of a relay started with --wss-port when given the same flag; without it, the configured port', async () => {
    const env = await imageEnvironment();
    const flagPort = String(await freePort());
    const serve = runDbgrelay(['serve', '--wss-port', flagPort], env);
    running.push(serve.child);
    await serve.waitFor(new RegExp(`wss\\s+listening on wss://127\\.0\\.0\\.1:${flagPort}`), 30_000);

    const configuredPort = await runHealthcheck(env);
    expect(configuredPort.output).toContain(`https://127.0.0.1:${env['DBGRELAY_WSS_PORT']}/livez`);
    expect(configuredPort.status).toBe(1);
    const samePort = await runHealthcheck(env, ['--wss-port', flagPort]);
    expect(samePort.output).toContain(`https://127.0.0.1:${flagPort}/livez: ok`);
    expect(samePort.status, samePort.output).toBe(0);

    const help = await runHealthcheck(env, ['--help']);
    expect(help.output).toContain('--wss-port <port>');
    expect(help.output).toMatch(/never from the command line serve was started with/);
  });

  it('exits 78 when no listener it could probe is configured', async () => {
    const env = { ...(await imageEnvironment()), DBGRELAY_WSS_ENABLED: 'false' };
    const check = await runHealthcheck(env);
    expect(check.status).toBe(78);
    expect(check.output).toContain('no listener answers health probes');
  });
});
