import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { builtCli } from '../support/processes/cliProcess.js';
import { httpsCall } from '../support/relay/relayPeers.js';

/**
 * The package as users install a Node.js command: `npm pack` (which builds first when
 * dist/ is not current), then `npm install -g` of the tarball into a temporary prefix,
 * then the installed `dbgrelay` run from outside the clone, `dbgrelay serve` included
 * (it reads the web console's files from the package). Dependencies come from
 * npm's cache when it has them (`--prefer-offline`; `npm ci` fills it).
 */
const root = join(import.meta.dirname, '..', '..');
const packageVersion = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'dbgrelay-install-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** This environment without npm's per-run settings (set when the tests run under `npm test`). */
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && !/^DBGRELAY_/.test(name)));

interface PackResult {
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}

describe('npm pack and npm install -g', () => {
  it('installs a dbgrelay command that prints the package version, lists the commands and serves the web console from the package', async () => {
    const pack = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, env, maxBuffer: 16 * 1024 * 1024 });
    const [packed] = JSON.parse(pack.stdout) as PackResult[];
    // The README's `npm install -g "$(npm pack --silent)"`: stdout is the tarball's name alone (npm's banners stay out).
    const silent = await run('npm', ['pack', '--silent', '--dry-run'], { cwd: root, env });
    expect(silent.stdout).toBe(`${packed!.filename}\n`);
    const files = packed!.files.map((file) => file.path);
    for (const shipped of [
      'dist/cli/main.js',
      'dist/dap/schema/debugAdapterProtocol.json',
      'LICENSE',
      'README.md',
      'package.json',
      'deploy/systemd/dbgrelay.service',
      'web/console/index.html',
      'web/console/console.js',
      'web/console/console.css',
    ]) {
      expect(files, shipped).toContain(shipped);
    }
    expect(files.filter((path) => /^(src|test|bench|fuzz|agent-py|node_modules)\//.test(path) || path.endsWith('.map'))).toEqual([]);

    const prefix = join(work, 'prefix');
    await run('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(work, packed!.filename)], { cwd: work, env });
    const installed = join(prefix, 'bin', 'dbgrelay');

    const version = await run(installed, ['--version'], { cwd: work, env });
    expect(version.stdout.trim()).toBe(packageVersion);

    const help = await run(installed, ['--help'], { cwd: work, env });
    for (const command of ['serve', 'attach', 'targets', 'certs', 'token', 'audit', 'reload']) expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    const helpOfClone = await run(process.execPath, [builtCli, '--help'], { cwd: root, env });
    expect(help.stdout).toBe(helpOfClone.stdout);

    // The installed relay starts and serves what it reads from the package at run time (the web console's files).
    const dataDir = join(work, 'data');
    const serve = spawn(installed, ['serve', '--data-dir', dataDir, '--wss-port', '0', '--tcps-port', '0', '--log-level', 'warn'], { cwd: work, env });
    try {
      let output = '';
      serve.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      serve.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const port = await vi.waitFor(
        () => {
          expect(serve.exitCode, output).toBeNull();
          const listening = /wss\s+listening on wss:\/\/127\.0\.0\.1:(\d+)/.exec(output);
          expect(listening, output).not.toBeNull();
          return Number(listening![1]);
        },
        { timeout: 30_000, interval: 50 },
      );
      const page = await httpsCall({ host: '127.0.0.1', port, url: `wss://127.0.0.1:${port}` }, '/console/', readFileSync(join(dataDir, 'ca.pem'), 'utf8'));
      expect(page.status).toBe(200);
      expect(page.text).toBe(readFileSync(join(root, 'web', 'console', 'index.html'), 'utf8'));
    } finally {
      serve.kill('SIGKILL');
    }
  });
});
